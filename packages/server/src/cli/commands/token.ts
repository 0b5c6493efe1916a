import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sha256OfToken } from '../../auth/createAuthenticator.js';
import type { CliCommand } from '../CliIo.js';
import { readTextInput } from '../client/files.js';
import { UsageError } from '../client/UsageError.js';
import { guarded, parsedArgs } from './verify.js';

const HELP = `usage: nexus-control token new [--actor ID] [--role ROLE ...]
       nexus-control token hash TOKEN|-

Bearer tokens are configured by their SHA-256 only (auth.tokens[].sha256), so the server
never stores a usable token.

  new    generate a random token; print it, and the configuration entry that admits it
  hash   print the SHA-256 of a token given as an argument or, with '-', on standard input
         (a trailing newline on standard input is not part of the token)

exit status: 0 done, 2 bad arguments`;

export const token: CliCommand = (argv, io) =>
  guarded('token', io, async () => {
    const { values, positionals } = parsedArgs(() =>
      parseArgs({
        args: argv,
        options: { actor: { type: 'string' }, role: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
      }),
    );
    const [action, value, ...extra] = positionals;
    if (values.help || action === undefined) {
      io.out(HELP);
      return values.help ? 0 : 2;
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]} (see --help)`);
    switch (action) {
      case 'new': {
        if (value !== undefined) throw new UsageError(`unexpected argument ${value} (see --help)`);
        const secret = `nxc_${randomBytes(32).toString('base64url')}`;
        const entry = { sha256: sha256OfToken(secret), actor: values.actor ?? 'CHANGE-ME', roles: values.role ?? ['requester'] };
        io.out(`token:  ${secret}\nconfig: ${JSON.stringify(entry)}`);
        return 0;
      }
      case 'hash': {
        if (value === undefined) throw new UsageError('token hash needs a TOKEN, or - to read it from standard input');
        const secret = value === '-' ? (await readTextInput('-', 'token')).replace(/\r?\n$/, '') : value;
        if (secret === '') throw new UsageError('the token is empty');
        io.out(sha256OfToken(secret));
        return 0;
      }
      default:
        throw new UsageError(`unknown action '${action}': use 'new' or 'hash'`);
    }
  });
