import { routerModeNames, type RouterMode, type VerifyAuditPackageResponse } from '@nexus-control/client';
import type { CliCommand } from '../CliIo.js';
import { CLIENT_OPTIONS_HELP, withClient } from '../client/clientOptions.js';
import { readTextInput, writeTextOutput } from '../client/files.js';
import { renderJson } from '../client/jsonOutput.js';
import { parseCommandArgs, positionalArgs } from '../client/parseCommandArgs.js';
import { runClientCommand } from '../client/runClientCommand.js';
import { subcommands } from '../client/subcommands.js';
import { UsageError } from '../client/UsageError.js';
import { renderReport } from './verify.js';

const EXPORT_HELP = `usage: nexus-control audit export DECISION [--mode MODE] [--out FILE] [options]

Exports the audit package (format 0.6) of an executed decision: the control bundle,
the router's side of the run and the binding between them. Without --out the package
is printed on standard output.

  --mode MODE            reference (default: the run id and the router result digest)
                         or embedded (the full router bundle)
  --router-bundle FILE   embedded mode: use this router bundle instead of the stored response
  --out FILE             write the package to FILE

${CLIENT_OPTIONS_HELP}`;

const VERIFY_HELP = `usage: nexus-control audit verify FILE [--public-key PUB.pem ...] [options]

Asks the server to verify an audit package (FILE may be '-' for standard input). Every
check runs and is reported. 'nexus-control verify FILE' does the same offline.

  --public-key PUB.pem  require a valid attestation by this Ed25519 public key (repeatable;
                        --key is the TLS client key here)

exit status: 0 every check passed, 1 a check failed or the server reported an error

${CLIENT_OPTIONS_HELP}`;

const exportPackage: CliCommand = (argv, io) =>
  runClientCommand('audit export', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      mode: { type: 'string' },
      'router-bundle': { type: 'string' },
      out: { type: 'string' },
    });
    if (values.help) {
      io.out(EXPORT_HELP);
      return 0;
    }
    const [decisionId] = positionalArgs(positionals, ['DECISION']) as [string];
    let mode: RouterMode | undefined;
    if (values.mode !== undefined) {
      mode = routerModeNames.fromSpec(values.mode);
      if (mode === undefined) throw new UsageError(`--mode must be reference or embedded, got '${values.mode}'`);
    }
    if (values['router-bundle'] !== undefined && values.mode !== 'embedded') throw new UsageError('--router-bundle needs --mode embedded');
    const routerBundleJson =
      values['router-bundle'] === undefined ? undefined : await readTextInput(values['router-bundle'], 'router bundle');
    return withClient(values, io, async (client) => {
      const { packageJson, bindingDigest } = await client.exportAuditPackage({
        decisionId,
        ...(mode === undefined ? {} : { mode }),
        ...(routerBundleJson === undefined ? {} : { routerBundleJson }),
      });
      if (values.out === undefined) {
        io.out(packageJson);
        return 0;
      }
      await writeTextOutput(values.out, packageJson, 'audit package');
      io.out(
        values.json
          ? renderJson({ decision_id: decisionId, out: values.out, mode: values.mode ?? 'reference', binding_digest: bindingDigest })
          : `wrote the audit package of ${decisionId} to ${values.out}\n  binding digest: ${bindingDigest}`,
      );
      return 0;
    });
  });

function reportJson(response: VerifyAuditPackageResponse) {
  return {
    ok: response.ok,
    checks: response.checks.map((check) => ({
      name: check.name,
      ok: check.ok,
      detail: check.detail,
      expected: check.expected,
      actual: check.actual,
    })),
    passed: response.passed,
    failed: response.failed,
    total: response.total,
  };
}

const verifyPackage: CliCommand = (argv, io) =>
  runClientCommand('audit verify', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, { 'public-key': { type: 'string', multiple: true } });
    if (values.help) {
      io.out(VERIFY_HELP);
      return 0;
    }
    const [path] = positionalArgs(positionals, ['FILE']) as [string];
    const publicKeys = await Promise.all((values['public-key'] ?? []).map((keyPath) => readTextInput(keyPath, 'public key')));
    const packageJson = await readTextInput(path, 'audit package');
    return withClient(values, io, async (client) => {
      const response = await client.verifyAuditPackage({ packageJson, publicKeys });
      const report = reportJson(response);
      io.out(
        values.json
          ? renderJson(report)
          : renderReport({ ...report, kind: 'audit_package' }, `audit package ${path}, verified by the server`),
      );
      return response.ok ? 0 : 1;
    });
  });

export const audit: CliCommand = subcommands('audit', {
  export: { summary: 'export the audit package of an executed decision (format 0.6)', run: exportPackage },
  verify: { summary: 'verify an audit package on the server', run: verifyPackage },
});
