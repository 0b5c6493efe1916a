import type { CliCommand } from '../CliIo.js';
import { CLIENT_OPTIONS_HELP, withClient } from '../client/clientOptions.js';
import { renderJson } from '../client/jsonOutput.js';
import { parseCommandArgs, positionalArgs } from '../client/parseCommandArgs.js';
import { renderDecision } from '../client/renderText.js';
import { runClientCommand } from '../client/runClientCommand.js';
import { decisionJson, statusText } from '../client/toOutputJson.js';

const HELP = `usage: nexus-control revoke DECISION [options]

Withdraws the caller's approval of a decision; allowed until execution begins.

  --reason TEXT           why, for the audit trail
  --idempotency-key KEY   repeating the call with the same key returns the first result

${CLIENT_OPTIONS_HELP}`;

export const revoke: CliCommand = (argv, io) =>
  runClientCommand('revoke', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      reason: { type: 'string' },
      'idempotency-key': { type: 'string' },
    });
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    const [decisionId] = positionalArgs(positionals, ['DECISION']) as [string];
    return withClient(values, io, async (client) => {
      const { decision } = await client.revoke({
        decisionId,
        ...(values.reason === undefined ? {} : { reason: values.reason }),
        ...(values['idempotency-key'] === undefined ? {} : { idempotencyKey: values['idempotency-key'] }),
      });
      if (!decision) throw new Error('the server returned no decision');
      io.out(
        values.json
          ? renderJson(decisionJson(decision))
          : `revoked the approval of ${decision.decisionId}: ${decision.activeApprovals} of ${decision.policy?.minApprovals ?? '?'} approvals, now ${statusText(decision.status)}\n${renderDecision(decision)}`,
      );
      return 0;
    });
  });
