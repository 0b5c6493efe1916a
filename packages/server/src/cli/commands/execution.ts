import type { CliCommand } from '../CliIo.js';
import { CLIENT_OPTIONS_HELP, withClient } from '../client/clientOptions.js';
import { renderJson } from '../client/jsonOutput.js';
import { parseCommandArgs, positionalArgs } from '../client/parseCommandArgs.js';
import { executionLine, renderDecision } from '../client/renderText.js';
import { runClientCommand } from '../client/runClientCommand.js';
import { subcommands } from '../client/subcommands.js';
import { decisionJson, executionJson, statusText } from '../client/toOutputJson.js';
import { UsageError } from '../client/UsageError.js';

const FAIL_HELP = `usage: nexus-control execution fail DECISION --reason TEXT [options]

Ends the run of an executing decision now, for a run that is stuck or whose server is
gone (one that stopped renewing its lease is also failed automatically once the lease
lapses). Records EXECUTION_FAILED with error code EXECUTION_FAILED_BY_OPERATOR, the
caller as its actor and the reason in its message; a server still running the adapter
stops it. The decision can then be executed again under its policy. Admin only; a
decision that is not executing is refused (INVALID_STATE).

  --reason TEXT           why the run is failed (required; recorded)
  --idempotency-key KEY   repeating the call with the same key returns the first result

${CLIENT_OPTIONS_HELP}`;

const fail: CliCommand = (argv, io) =>
  runClientCommand('execution fail', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      reason: { type: 'string' },
      'idempotency-key': { type: 'string' },
    });
    if (values.help) {
      io.out(FAIL_HELP);
      return 0;
    }
    const [decisionId] = positionalArgs(positionals, ['DECISION']) as [string];
    if (values.reason === undefined || values.reason.trim() === '') throw new UsageError('--reason is required (why the run is failed)');
    const reason = values.reason;
    return withClient(values, io, async (client) => {
      const { decision, execution } = await client.failExecution({
        decisionId,
        reason,
        ...(values['idempotency-key'] === undefined ? {} : { idempotencyKey: values['idempotency-key'] }),
      });
      if (!decision || !execution) throw new Error('the server returned no decision or execution');
      io.out(
        values.json
          ? renderJson({ decision: decisionJson(decision), execution: executionJson(execution) })
          : `failed the run of ${decision.decisionId}: ${statusText(decision.status)}\n  ${executionLine(execution)}\n${renderDecision(decision)}`,
      );
      return 0;
    });
  });

/** `nexus-control execution …`: operator commands on runs. */
export const execution: CliCommand = subcommands('execution', {
  fail: { summary: 'fail the run of an executing decision now (admin)', run: fail },
});
