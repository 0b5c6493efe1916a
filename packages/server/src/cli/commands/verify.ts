import { parseArgs } from 'node:util';
import {
  isJsonObject,
  isNexusError,
  parseJson,
  verifyAuditPackage,
  verifyBundle,
  type JsonObject,
  type VerificationReport,
} from '@nexus-control/core';
import type { CliCommand, CliIo } from '../CliIo.js';
import { readTextInput } from '../client/files.js';
import { UsageError } from '../client/UsageError.js';
import { reportError } from '../reportError.js';

const HELP = `usage: nexus-control verify FILE [--json] [--public-key PUB.pem ...]

Verifies an audit package (v0.6) or a decision bundle (v0.5) offline: no server, no database.
FILE may be '-' for standard input.

  --json                print the structured report instead of the readable one
  --public-key PUB.pem  require a valid attestation by this Ed25519 public key (repeatable);
                        an attestation by any other key then fails

exit status: 0 every check passed, 1 a check failed, 2 the input could not be read or parsed`;

/** Reads and losslessly parses a JSON object document. */
export async function readJsonObject(path: string, what: string): Promise<JsonObject> {
  const text = await readTextInput(path, what);
  let value;
  try {
    value = parseJson(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(value)) throw new UsageError(`${path} is not a JSON object`);
  return value;
}

export type DocumentKind = 'audit_package' | 'bundle';

export function documentKind(document: JsonObject): DocumentKind | undefined {
  if ('package_version' in document || 'control_bundle' in document) return 'audit_package';
  if ('bundle_version' in document || 'events' in document) return 'bundle';
  return undefined;
}

/** Runs a command body, mapping input problems (and the verifiers' schema/key errors) to exit 2. */
export async function guarded(name: string, io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      reportError(io, 'USAGE', error.message);
      return 2;
    }
    if (isNexusError(error) && error.kind === 'invalid_argument') {
      reportError(io, error.code, error.message);
      return 2;
    }
    throw error;
  }
}

/** Runs a node:util parseArgs call, turning its complaints into input errors (exit 2). */
export function parsedArgs<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function subject(document: JsonObject, kind: DocumentKind): string {
  const bundle = kind === 'audit_package' ? document['control_bundle'] : document;
  const decision = isJsonObject(bundle) && isJsonObject(bundle['decision']) ? bundle['decision'] : {};
  const id = typeof decision['decision_id'] === 'string' ? decision['decision_id'] : '(unknown decision)';
  const integrity = isJsonObject(document['integrity']) ? document['integrity'] : {};
  const digest = kind === 'audit_package' ? integrity['binding_digest'] : integrity['canonical_digest'];
  return `${kind === 'audit_package' ? 'audit package' : 'decision bundle'} for ${id}` + (typeof digest === 'string' ? ` (${digest})` : '');
}

/** The readable report: one line per check, the comparison under each failure, a verdict. */
export function renderReport(report: VerificationReport, heading: string): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = [heading, ''];
  for (const check of report.checks) {
    lines.push(`  ${check.ok ? 'PASS' : 'FAIL'}  ${check.name.padEnd(width)}  ${check.detail}`);
    if (!check.ok) {
      const pad = ' '.repeat(width + 10);
      if (check.expected !== undefined) lines.push(`${pad}expected: ${check.expected}`);
      if (check.actual !== undefined) lines.push(`${pad}actual:   ${check.actual}`);
    }
  }
  lines.push('');
  lines.push(
    report.ok
      ? `VERIFIED: all ${report.total} checks passed`
      : `NOT VERIFIED: ${report.failed} of ${report.total} checks failed (${report.checks
          .filter((c) => !c.ok)
          .map((c) => c.name)
          .join(', ')})`,
  );
  return lines.join('\n');
}

export const verify: CliCommand = (argv, io) =>
  guarded('verify', io, async () => {
    const { values, positionals } = parsedArgs(() =>
      parseArgs({
        args: argv,
        options: {
          json: { type: 'boolean' },
          // Same spelling as `audit verify`, where --key is the TLS client key.
          'public-key': { type: 'string', multiple: true },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: true,
      }),
    );
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one FILE, got ${positionals.length} (see --help)`);
    const path = positionals[0] as string;
    const keyPaths = values['public-key'] ?? [];
    const publicKeys = await Promise.all(keyPaths.map((keyPath) => readTextInput(keyPath, 'public key')));
    const document = await readJsonObject(path, 'file');
    const kind = documentKind(document);
    if (kind === undefined) throw new UsageError(`${path} is neither an audit package nor a decision bundle`);
    if (kind === 'bundle' && publicKeys.length > 0)
      throw new UsageError('--public-key applies to audit packages; a bundle carries no attestations');
    const report =
      kind === 'audit_package' ? verifyAuditPackage(document, publicKeys.length > 0 ? { publicKeys } : {}) : verifyBundle(document);
    io.out(values.json ? JSON.stringify(report, null, 2) : renderReport(report, subject(document, kind)));
    return report.ok ? 0 : 1;
  });
