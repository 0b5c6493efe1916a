import { createRequire } from 'node:module';
import { processIo, type CliCommand, type CliIo } from './CliIo.js';
import { COMMAND_TREE, RENAMED_FLAGS } from './commandTree.js';
import { reportError } from './reportError.js';
import { suggest } from './suggest.js';

/** Each command lives in its own module, loaded only when used: `verify` never loads gRPC or SQLite. */
const commands: Record<string, () => Promise<CliCommand>> = {
  serve: async () => (await import('./commands/serve.js')).serve,
  migrate: async () => (await import('./commands/migrate.js')).migrate,
  verify: async () => (await import('./commands/verify.js')).verify,
  sign: async () => (await import('./commands/sign.js')).sign,
  keygen: async () => (await import('./commands/keygen.js')).keygen,
  token: async () => (await import('./commands/token.js')).token,
  decision: async () => (await import('./commands/decision.js')).decision,
  approve: async () => (await import('./commands/approve.js')).approve,
  revoke: async () => (await import('./commands/revoke.js')).revoke,
  execute: async () => (await import('./commands/execute.js')).execute,
  execution: async () => (await import('./commands/execution.js')).execution,
  template: async () => (await import('./commands/template.js')).template,
  bundle: async () => (await import('./commands/bundle.js')).bundle,
  audit: async () => (await import('./commands/audit.js')).audit,
  completion: async () => (await import('./commands/completion.js')).completion,
};

/** The version of the installed package (the CLI ships in @nexus-control/server). */
export function version(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

export function usage(): string {
  const names = Object.keys(COMMAND_TREE);
  const width = Math.max(...names.map((name) => name.length));
  return [
    'usage: nexus-control <command> [options]',
    '',
    'commands:',
    ...names.map((name) => `  ${name.padEnd(width)}  ${COMMAND_TREE[name]!.summary}`),
    '',
    'global options:',
    '  -h, --help     show help (also: nexus-control help COMMAND [SUBCOMMAND])',
    '  -V, --version  print the version',
    '  --json         print results, and errors on stderr, as JSON',
    '',
    "Run 'nexus-control help <command>' for a command's options.",
  ].join('\n');
}

function unknownCommand(name: string, io: CliIo): number {
  const guess = suggest(name, Object.keys(COMMAND_TREE));
  reportError(
    io,
    'USAGE',
    `unknown command '${name}'`,
    guess === undefined ? "run 'nexus-control --help' for the list of commands" : `did you mean 'nexus-control ${guess}'?`,
  );
  return 2;
}

export async function main(argv: string[], baseIo: CliIo = processIo): Promise<number> {
  const io: CliIo = { ...baseIo, json: argv.includes('--json') };
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(usage());
    return 2;
  }
  if (name === '--help' || name === '-h') {
    io.out(usage());
    return 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(io.json ? JSON.stringify({ version: version() }) : `nexus-control ${version()}`);
    return 0;
  }
  if (name === 'help') {
    if (rest.length === 0) {
      io.out(usage());
      return 0;
    }
    return main([...rest, '--help'], baseIo);
  }
  const load = commands[name];
  if (!load) return unknownCommand(name, io);
  const renamed = rest.find((arg) => Object.hasOwn(RENAMED_FLAGS, arg.split('=')[0]!));
  if (renamed !== undefined) {
    const flag = renamed.split('=')[0]!;
    reportError(io, 'USAGE', `${flag} was renamed so that each flag means one thing: use ${RENAMED_FLAGS[flag]}`);
    return 2;
  }
  return (await load())(rest, io);
}
