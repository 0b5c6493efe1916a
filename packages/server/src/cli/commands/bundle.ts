import { conflictModeNames, type ConflictMode } from '@nexus-control/client';
import type { CliCommand } from '../CliIo.js';
import { CLIENT_OPTIONS_HELP, withClient } from '../client/clientOptions.js';
import { readTextInput, writeTextOutput } from '../client/files.js';
import { RawJson, renderJson } from '../client/jsonOutput.js';
import { parseCommandArgs, positionalArgs } from '../client/parseCommandArgs.js';
import { runClientCommand } from '../client/runClientCommand.js';
import { subcommands } from '../client/subcommands.js';
import { UsageError } from '../client/UsageError.js';

const EXPORT_HELP = `usage: nexus-control bundle export DECISION [--out FILE] [options]

Exports a decision as an integrity-checked bundle (format 0.5). Without --out the
bundle is printed on standard output.

  --out FILE   write the bundle to FILE

${CLIENT_OPTIONS_HELP}`;

const IMPORT_HELP = `usage: nexus-control bundle import FILE [options]

Imports a bundle (FILE may be '-' for standard input). The digest is checked and
nothing is written when any check fails.

  --conflict-mode MODE  when the decision exists: reject_on_conflict (default),
                        new_decision_id (import under a fresh id) or overwrite
  --replay              replay the imported log inside the import: the status and every
                        event digest must recompute (the server's default)
  --no-replay           skip that replay

${CLIENT_OPTIONS_HELP}`;

const exportBundle: CliCommand = (argv, io) =>
  runClientCommand('bundle export', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, { out: { type: 'string' } });
    if (values.help) {
      io.out(EXPORT_HELP);
      return 0;
    }
    const [decisionId] = positionalArgs(positionals, ['DECISION']) as [string];
    return withClient(values, io, async (client) => {
      const { bundleJson, canonicalDigest } = await client.exportBundle({ decisionId });
      if (values.out === undefined) {
        io.out(bundleJson);
        return 0;
      }
      await writeTextOutput(values.out, bundleJson, 'bundle');
      io.out(
        values.json
          ? renderJson({ decision_id: decisionId, out: values.out, canonical_digest: canonicalDigest })
          : `wrote the bundle of ${decisionId} to ${values.out}\n  canonical digest: ${canonicalDigest}`,
      );
      return 0;
    });
  });

const importBundle: CliCommand = (argv, io) =>
  runClientCommand('bundle import', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      'conflict-mode': { type: 'string' },
      replay: { type: 'boolean' },
      'no-replay': { type: 'boolean' },
    });
    if (values.help) {
      io.out(IMPORT_HELP);
      return 0;
    }
    const [path] = positionalArgs(positionals, ['FILE']) as [string];
    if (values.replay && values['no-replay']) throw new UsageError('--replay and --no-replay exclude each other');
    let conflictMode: ConflictMode | undefined;
    if (values['conflict-mode'] !== undefined) {
      conflictMode = conflictModeNames.fromSpec(values['conflict-mode']);
      if (conflictMode === undefined) {
        throw new UsageError(`--conflict-mode must be reject_on_conflict, new_decision_id or overwrite, got '${values['conflict-mode']}'`);
      }
    }
    const replay = values.replay ? true : values['no-replay'] ? false : undefined;
    const bundleJson = await readTextInput(path, 'bundle');
    return withClient(values, io, async (client) => {
      const result = await client.importBundle({
        bundleJson,
        ...(conflictMode === undefined ? {} : { conflictMode }),
        ...(replay === undefined ? {} : { replayAfterImport: replay }),
      });
      if (values.json) {
        io.out(renderJson(new RawJson(result.resultJson)));
        return 0;
      }
      const lines = [`imported ${result.decisionId} (${result.eventsImported} events)`];
      if (result.originalDecisionId !== undefined) lines.push(`  original id:    ${result.originalDecisionId}`);
      lines.push(`  conflict mode:  ${conflictModeNames.toSpec(result.conflictMode) ?? 'reject_on_conflict'}`);
      lines.push(`  digest:         ${result.digestVerified ? 'verified' : 'not verified'}`);
      lines.push(`  replay:         ${result.replayRan ? 'ran, status and event digests recomputed' : 'skipped'}`);
      io.out(lines.join('\n'));
      return 0;
    });
  });

export const bundle: CliCommand = subcommands('bundle', {
  export: { summary: 'export a decision as a bundle (format 0.5)', run: exportBundle },
  import: { summary: 'import a bundle', run: importBundle },
});
