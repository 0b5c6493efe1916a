import { decisionStatusNames, timestampFromText, type DeepPartial, type PointInTime } from '@nexus-control/client';
import type { CliCommand } from '../CliIo.js';
import { CLIENT_OPTIONS_HELP, parseDuration, withClient } from '../client/clientOptions.js';
import { renderJson } from '../client/jsonOutput.js';
import { parseCommandArgs, positionalArgs, positiveInt } from '../client/parseCommandArgs.js';
import { parseMode, POLICY_OPTIONS, POLICY_OPTIONS_HELP, policyFromFlags } from '../client/policyFlags.js';
import { renderDecision, renderEvent, renderSummaries } from '../client/renderText.js';
import { runClientCommand } from '../client/runClientCommand.js';
import { subcommands } from '../client/subcommands.js';
import { decisionJson, eventJson, lifecycleJson, summaryJson } from '../client/toOutputJson.js';
import { UsageError } from '../client/UsageError.js';

const CREATE_HELP = `usage: nexus-control decision create --goal TEXT [options]

Requests a decision: what should happen, how, in which mode, under which policy.

  --goal TEXT              what should happen (required)
  --plan TEXT              how it should happen
  --mode MODE              requested mode: dry_run (default) or apply
  --template NAME          start from this policy template
  --idempotency-key KEY    repeating the request with the same key returns the first result
  --quiet, -q              print only the new decision's id

${POLICY_OPTIONS_HELP}

${CLIENT_OPTIONS_HELP}`;

const GET_HELP = `usage: nexus-control decision get DECISION [options]

Prints a decision's replayed state: policy, approvals, executions and what blocks it.

  --at-seq N       the state after the events up to and including seq N
  --as-of TIME     the state at this instant (RFC 3339 with a time zone)
  --lifecycle      with --json: add blocking reasons, progress and the timeline

${CLIENT_OPTIONS_HELP}`;

const LIST_HELP = `usage: nexus-control decision list [options]

Lists decisions, newest first.

  --label LABEL      only decisions carrying this label
  --status STATUS    only decisions in this state (draft, pending_approval, approved,
                     executing, completed, failed)
  --limit N          at most N decisions per page (default 50)
  --page-token TOKEN continue after a previous page

${CLIENT_OPTIONS_HELP}`;

const WATCH_HELP = `usage: nexus-control decision watch [DECISION] [options]

Prints the change feed, of one decision or of all, one line each (with --json: one
JSON object per line), until interrupted or --count events. Every line starts with a
checkpoint token; save the last one and pass it as --after to resume exactly there.

  --from-start              start at the beginning of the feed
  --after TOKEN             resume strictly after this checkpoint token
                            (default: only what is committed from now on)
  --checkpoint-interval D   at most this often, report progress made without a
                            matching event (default 5s; e.g. 500ms, 30s)
  --count N                 stop after N events
  --until-caught-up         stop once the live head is reached (after printing
                            caught_up): read what there is, save the token, exit

Lines:
  TOKEN  TS  DECISION  #SEQ  TYPE  by ACTOR  PAYLOAD   an event (with "gN" after
                                                      #SEQ when its log is generation
                                                      N > 0: a replaced log)
  caught_up TOKEN                                    the live head was reached
  checkpoint TOKEN                                   read up to TOKEN, nothing matched

With --json: {"kind":"event",...}, {"kind":"caught_up","checkpoint":TOKEN} and
{"kind":"checkpoint","checkpoint":TOKEN}.

${CLIENT_OPTIONS_HELP}`;

function pointInTime(atSeq: string | undefined, asOf: string | undefined): DeepPartial<PointInTime> | undefined {
  if (atSeq !== undefined && asOf !== undefined) throw new UsageError('--at-seq and --as-of exclude each other');
  if (atSeq !== undefined) {
    if (!/^\d+$/.test(atSeq)) throw new UsageError(`--at-seq must be a seq (0, 1, 2, …), got '${atSeq}'`);
    return { atSeq: Number(atSeq) };
  }
  if (asOf !== undefined) {
    const timestamp = timestampFromText(asOf);
    if (!timestamp) throw new UsageError(`--as-of '${asOf}' is not an RFC 3339 timestamp with a time zone`);
    return { asOf: timestamp };
  }
  return undefined;
}

const create: CliCommand = (argv, io) =>
  runClientCommand('decision create', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      goal: { type: 'string' },
      plan: { type: 'string' },
      mode: { type: 'string' },
      template: { type: 'string' },
      'idempotency-key': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      ...POLICY_OPTIONS,
    });
    if (values.help) {
      io.out(CREATE_HELP);
      return 0;
    }
    positionalArgs(positionals, []);
    if (values.goal === undefined) throw new UsageError('--goal is required');
    const policy = policyFromFlags(values);
    const request = {
      goal: values.goal,
      ...(values.plan === undefined ? {} : { plan: values.plan }),
      ...(values.mode === undefined ? {} : { mode: parseMode(values.mode, '--mode') }),
      ...(policy === undefined ? {} : { policy }),
      ...(values.template === undefined ? {} : { templateName: values.template }),
      ...(values['idempotency-key'] === undefined ? {} : { idempotencyKey: values['idempotency-key'] }),
    };
    return withClient(values, io, async (client) => {
      const { decision } = await client.createDecision(request);
      if (!decision) throw new Error('the server returned no decision');
      if (values.quiet) io.out(decision.decisionId);
      else io.out(values.json ? renderJson(decisionJson(decision)) : `created ${decision.decisionId}\n${renderDecision(decision)}`);
      return 0;
    });
  });

const get: CliCommand = (argv, io) =>
  runClientCommand('decision get', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      'at-seq': { type: 'string' },
      'as-of': { type: 'string' },
      lifecycle: { type: 'boolean' },
    });
    if (values.help) {
      io.out(GET_HELP);
      return 0;
    }
    const [decisionId] = positionalArgs(positionals, ['DECISION']) as [string];
    const at = pointInTime(values['at-seq'], values['as-of']);
    const includeLifecycle = !values.json || values.lifecycle === true;
    return withClient(values, io, async (client) => {
      const { decision, lifecycle } = await client.getDecision({ decisionId, includeLifecycle, ...(at ? { at } : {}) });
      if (!decision) throw new Error('the server returned no decision');
      if (values.json) {
        io.out(
          renderJson({ ...decisionJson(decision), ...(values.lifecycle && lifecycle ? { lifecycle: lifecycleJson(lifecycle) } : {}) }),
        );
      } else {
        io.out(renderDecision(decision, lifecycle));
      }
      return 0;
    });
  });

const list: CliCommand = (argv, io) =>
  runClientCommand('decision list', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      label: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      'page-token': { type: 'string' },
    });
    if (values.help) {
      io.out(LIST_HELP);
      return 0;
    }
    positionalArgs(positionals, []);
    let status: number | undefined;
    if (values.status !== undefined) {
      status = decisionStatusNames.fromSpec(values.status);
      if (status === undefined) throw new UsageError(`--status '${values.status}' is not a decision state`);
    }
    const request = {
      ...(values.label === undefined ? {} : { label: values.label }),
      ...(status === undefined ? {} : { status }),
      ...(values.limit === undefined ? {} : { pageSize: positiveInt(values.limit, '--limit') }),
      ...(values['page-token'] === undefined ? {} : { pageToken: values['page-token'] }),
    };
    return withClient(values, io, async (client) => {
      const page = await client.listDecisions(request);
      if (values.json) {
        io.out(
          renderJson({
            decisions: page.decisions.map(summaryJson),
            next_page_token: page.nextPageToken === '' ? null : page.nextPageToken,
          }),
        );
      } else {
        io.out(renderSummaries(page.decisions));
        if (page.nextPageToken !== '') io.out(`more: nexus-control decision list --page-token ${page.nextPageToken}`);
      }
      return 0;
    });
  });

const watch: CliCommand = (argv, io) =>
  runClientCommand('decision watch', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      after: { type: 'string' },
      'from-start': { type: 'boolean' },
      'checkpoint-interval': { type: 'string' },
      count: { type: 'string' },
      'until-caught-up': { type: 'boolean' },
    });
    if (values.help) {
      io.out(WATCH_HELP);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`expected at most one DECISION, got ${positionals.join(' ')}`);
    const decisionId = positionals[0];
    if (values.after !== undefined && values['from-start']) throw new UsageError('--after and --from-start exclude each other');
    if (values.after === '') throw new UsageError('--after needs a checkpoint token (use --from-start for the beginning)');
    const intervalText = values['checkpoint-interval'];
    const checkpointIntervalMs = intervalText === undefined ? 0 : parseDuration(intervalText, '--checkpoint-interval');
    if (intervalText !== undefined && checkpointIntervalMs === 0) throw new UsageError('--checkpoint-interval must be above 0');
    const count = values.count === undefined ? undefined : positiveInt(values.count, '--count');
    // A stream has no deadline unless one is asked for.
    const deadlineMs = values.timeout === undefined ? 0 : parseDuration(values.timeout, '--timeout');
    const start = values['from-start'] ? { fromStart: {} } : values.after === undefined ? { fromNow: {} } : { after: values.after };
    return withClient(values, io, async (client) => {
      const stream = client.watchDecisions(
        { ...(decisionId === undefined ? {} : { decisionId }), ...start, checkpointIntervalMs },
        { deadlineMs },
      );
      if (!values.json) {
        const from = values['from-start'] ? 'from the start' : values.after === undefined ? 'from now' : `after ${values.after}`;
        io.err(`watching ${decisionId ?? 'all decisions'} ${from}; Ctrl-C stops`);
      }
      let seen = 0;
      for await (const item of stream) {
        if (item.type === 'event') {
          io.out(values.json ? renderJson({ kind: 'event', ...eventJson(item.event) }, { compact: true }) : renderEvent(item.event));
          seen++;
          if (count !== undefined && seen >= count) break;
        } else {
          io.out(
            values.json
              ? renderJson({ kind: item.type, checkpoint: item.checkpoint }, { compact: true })
              : `${item.type} ${item.checkpoint}`,
          );
          if (item.type === 'caught_up' && values['until-caught-up']) break;
        }
      }
      return 0;
    });
  });

export const decision: CliCommand = subcommands('decision', {
  create: { summary: 'request a decision', run: create },
  get: { summary: "a decision's state, policy, approvals and executions", run: get },
  list: { summary: 'decisions, newest first', run: list },
  watch: { summary: 'follow committed events, of one decision or of all', run: watch },
});
