import { ExecutionStatus } from '@nexus-control/client';
import type { CliCommand } from '../CliIo.js';
import { CLIENT_OPTIONS_HELP, withClient } from '../client/clientOptions.js';
import { RawJson, renderJson } from '../client/jsonOutput.js';
import { parseCommandArgs, positionalArgs } from '../client/parseCommandArgs.js';
import { parseMode } from '../client/policyFlags.js';
import { executionLine, renderDecision } from '../client/renderText.js';
import { runClientCommand } from '../client/runClientCommand.js';
import { reportError } from '../reportError.js';
import { decisionJson, executionJson, statusText } from '../client/toOutputJson.js';
import { UsageError } from '../client/UsageError.js';

const HELP = `usage: nexus-control execute DECISION --adapter ID [options]

Checks the policy now and runs an approved decision through a router adapter. A run
that fails (router error, step limit) prints the decision and exits 1.

  --adapter ID            the router adapter (e.g. null, the built-in simulator)
  --mode MODE             override the requested mode: dry_run or apply
  --idempotency-key KEY   repeating the call with the same key returns the first result

${CLIENT_OPTIONS_HELP}`;

export const execute: CliCommand = (argv, io) =>
  runClientCommand('execute', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      adapter: { type: 'string' },
      mode: { type: 'string' },
      'idempotency-key': { type: 'string' },
    });
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    const [decisionId] = positionalArgs(positionals, ['DECISION']) as [string];
    if (values.adapter === undefined) throw new UsageError('--adapter is required (e.g. --adapter null)');
    const mode = values.mode === undefined ? undefined : parseMode(values.mode, '--mode');
    return withClient(values, io, async (client) => {
      const response = await client.execute({
        decisionId,
        adapterId: values.adapter,
        ...(mode === undefined ? {} : { mode }),
        ...(values['idempotency-key'] === undefined ? {} : { idempotencyKey: values['idempotency-key'] }),
      });
      const { decision, execution } = response;
      if (!decision || !execution) throw new Error('the server returned no decision or execution');
      if (values.json) {
        io.out(
          renderJson({
            decision: decisionJson(decision),
            execution: executionJson(execution),
            router_response: response.routerResponseJson === '' ? null : new RawJson(response.routerResponseJson),
          }),
        );
      } else {
        io.out(
          `executed ${decision.decisionId}: ${statusText(decision.status)}\n  ${executionLine(execution)}\n${renderDecision(decision)}`,
        );
      }
      if (execution.status === ExecutionStatus.EXECUTION_STATUS_FAILED) {
        reportError(io, execution.errorCode || 'EXECUTION_FAILED', execution.errorMessage || 'the execution failed');
        return 1;
      }
      return 0;
    });
  });
