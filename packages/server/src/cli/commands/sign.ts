import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  attachAttestation,
  canonicalJson,
  isJsonObject,
  signAuditPackage,
  verifyAuditPackage,
  type JsonObject,
  type JsonValue,
} from '@nexus-control/core';
import type { CliCommand } from '../CliIo.js';
import { readTextInput } from '../client/files.js';
import { documentKind, guarded, parsedArgs, readJsonObject } from './verify.js';
import { UsageError } from '../client/UsageError.js';
import { reportError } from '../reportError.js';

const HELP = `usage: nexus-control sign FILE --signing-key KEY.pem [--out FILE] [--signed-at TIMESTAMP]

Signs an audit package's binding digest with an Ed25519 private key and attaches the
attestation (the binding digest itself does not change). The package must verify first.
Writes the signed package to --out, or to standard output.

  --signing-key KEY.pem PKCS#8 PEM private key (see 'nexus-control keygen')
  --out FILE            where to write the signed package
  --signed-at TIMESTAMP the signing instant to record (default: now)

exit status: 0 signed, 1 the package fails verification, 2 bad input or key`;

/** Indented JSON that keeps every number exactly as parsed (big integers, integral floats). */
export function prettyJson(value: JsonValue, indent = '  ', depth = 0): string {
  const inner = indent.repeat(depth + 1);
  const outer = indent.repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => inner + prettyJson(item, indent, depth + 1)).join(',\n')}\n${outer}]`;
  }
  if (isJsonObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((key) => `${inner}${JSON.stringify(key)}: ${prettyJson(value[key] as JsonValue, indent, depth + 1)}`).join(',\n')}\n${outer}}`;
  }
  return canonicalJson(value);
}

export const sign: CliCommand = (argv, io) =>
  guarded('sign', io, async () => {
    const { values, positionals } = parsedArgs(() =>
      parseArgs({
        args: argv,
        options: {
          'signing-key': { type: 'string' },
          out: { type: 'string' },
          'signed-at': { type: 'string' },
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
    const keyPath = values['signing-key'];
    if (typeof keyPath !== 'string') throw new UsageError('--signing-key KEY.pem is required');
    const path = positionals[0] as string;
    const keyPem = await readTextInput(keyPath, 'private key');
    const pkg: JsonObject = await readJsonObject(path, 'file');
    if (documentKind(pkg) !== 'audit_package') throw new UsageError(`${path} is not an audit package`);

    const report = verifyAuditPackage(pkg);
    if (!report.ok) {
      const failed = report.checks.filter((check) => !check.ok).map((check) => check.name);
      reportError(io, 'VERIFICATION_FAILED', `refusing to sign: the package fails verification (${failed.join(', ')})`);
      return 1;
    }
    const signedAt = values['signed-at'];
    const attestation = signAuditPackage(pkg, keyPem, typeof signedAt === 'string' ? { signedAt } : {});
    const signed = attachAttestation(pkg, attestation);
    const text = `${prettyJson(signed as JsonValue)}\n`;
    if (typeof values.out === 'string') {
      try {
        await writeFile(values.out, text);
      } catch (error) {
        throw new UsageError(`cannot write ${values.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      io.err(`signed by ${attestation.key_id}; wrote ${values.out}`);
    } else {
      io.out(text);
      io.err(`signed by ${attestation.key_id}`);
    }
    return 0;
  });
