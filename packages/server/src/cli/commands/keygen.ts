import { access, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generateSigningKeyPair } from '@nexus-control/core';
import type { CliCommand } from '../CliIo.js';
import { guarded, parsedArgs } from './verify.js';
import { UsageError } from '../client/UsageError.js';

const HELP = `usage: nexus-control keygen [--out PREFIX]

Generates an Ed25519 key pair for signing audit packages.

  --out PREFIX  write PREFIX.key (private, mode 0600) and PREFIX.pub (public);
                existing files are never overwritten
  (no --out)    print both keys to standard output

The key id (ed25519:<16 hex>) is printed either way.

exit status: 0 generated, 2 bad arguments or the files cannot be written`;

export const keygen: CliCommand = (argv, io) =>
  guarded('keygen', io, async () => {
    const { values, positionals } = parsedArgs(() =>
      parseArgs({ args: argv, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true }),
    );
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]} (see --help)`);
    const pair = generateSigningKeyPair();
    const prefix = values.out;
    if (typeof prefix !== 'string') {
      io.out(`${pair.privateKeyPem.trimEnd()}\n${pair.publicKeyPem.trimEnd()}\nkey id: ${pair.keyId}`);
      return 0;
    }
    const write = async (path: string, text: string, mode: number) => {
      try {
        // 'wx': never replace an existing key.
        await writeFile(path, text, { mode, flag: 'wx' });
      } catch (error) {
        throw new UsageError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    };
    for (const path of [`${prefix}.key`, `${prefix}.pub`]) {
      const exists = await access(path).then(
        () => true,
        () => false,
      );
      if (exists) throw new UsageError(`${path} already exists; keys are never overwritten`);
    }
    await write(`${prefix}.key`, pair.privateKeyPem, 0o600);
    await write(`${prefix}.pub`, pair.publicKeyPem, 0o644);
    io.out(`wrote ${prefix}.key (private) and ${prefix}.pub (public)\nkey id: ${pair.keyId}`);
    return 0;
  });
