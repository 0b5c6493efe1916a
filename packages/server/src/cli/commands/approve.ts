import { timestampFromDate, timestampFromText, type Timestamp } from '@nexus-control/client';
import type { CliCommand } from '../CliIo.js';
import { CLIENT_OPTIONS_HELP, parseDuration, withClient } from '../client/clientOptions.js';
import { renderJson } from '../client/jsonOutput.js';
import { parseCommandArgs, positionalArgs } from '../client/parseCommandArgs.js';
import { renderDecision } from '../client/renderText.js';
import { runClientCommand } from '../client/runClientCommand.js';
import { decisionJson, statusText } from '../client/toOutputJson.js';
import { UsageError } from '../client/UsageError.js';

const HELP = `usage: nexus-control approve DECISION [options]

Approves a decision as the caller (the identity of --token).

  --comment TEXT          a note for the audit trail
  --expires-at TIME       the approval stops counting at this instant (RFC 3339 with a zone)
  --expires-in DURATION   … or this long from now (e.g. 30m, 8h, 7d)
  --idempotency-key KEY   repeating the call with the same key returns the first result

${CLIENT_OPTIONS_HELP}`;

function expiry(at: string | undefined, inDuration: string | undefined): Timestamp | undefined {
  if (at !== undefined && inDuration !== undefined) throw new UsageError('--expires-at and --expires-in exclude each other');
  if (at !== undefined) {
    const timestamp = timestampFromText(at);
    if (!timestamp) throw new UsageError(`--expires-at '${at}' is not an RFC 3339 timestamp with a time zone`);
    return timestamp;
  }
  if (inDuration !== undefined) return timestampFromDate(new Date(Date.now() + parseDuration(inDuration, '--expires-in')));
  return undefined;
}

export const approve: CliCommand = (argv, io) =>
  runClientCommand('approve', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      comment: { type: 'string' },
      'expires-at': { type: 'string' },
      'expires-in': { type: 'string' },
      'idempotency-key': { type: 'string' },
    });
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    const [decisionId] = positionalArgs(positionals, ['DECISION']) as [string];
    const expiresAt = expiry(values['expires-at'], values['expires-in']);
    return withClient(values, io, async (client) => {
      const { decision } = await client.approve({
        decisionId,
        ...(expiresAt === undefined ? {} : { expiresAt }),
        ...(values.comment === undefined ? {} : { comment: values.comment }),
        ...(values['idempotency-key'] === undefined ? {} : { idempotencyKey: values['idempotency-key'] }),
      });
      if (!decision) throw new Error('the server returned no decision');
      io.out(
        values.json
          ? renderJson(decisionJson(decision))
          : `approved ${decision.decisionId}: ${decision.activeApprovals} of ${decision.policy?.minApprovals ?? '?'} approvals, now ${statusText(decision.status)}\n${renderDecision(decision)}`,
      );
      return 0;
    });
  });
