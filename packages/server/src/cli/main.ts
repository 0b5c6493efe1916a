import { processIo, type CliCommand, type CliIo } from './CliIo.js';

/** Each command lives in its own module, loaded only when used so `verify` starts fast. */
const commands: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  serve: { summary: 'run the gRPC API server', load: async () => (await import('./commands/serve.js')).serve },
  migrate: { summary: 'apply pending schema migrations to a PostgreSQL store', load: async () => (await import('./commands/migrate.js')).migrate },
  verify: { summary: 'verify an audit package or bundle offline', load: async () => (await import('./commands/verify.js')).verify },
  sign: { summary: 'attach an Ed25519 attestation to an audit package', load: async () => (await import('./commands/sign.js')).sign },
  keygen: { summary: 'generate an Ed25519 key pair for signing', load: async () => (await import('./commands/keygen.js')).keygen },
  token: { summary: 'generate a bearer token, or hash one for the configuration', load: async () => (await import('./commands/token.js')).token },
  decision: { summary: 'create, get, list and watch decisions', load: async () => (await import('./commands/decision.js')).decision },
  approve: { summary: 'approve a decision', load: async () => (await import('./commands/approve.js')).approve },
  revoke: { summary: 'withdraw an approval', load: async () => (await import('./commands/revoke.js')).revoke },
  execute: { summary: 'execute an approved decision through a router adapter', load: async () => (await import('./commands/execute.js')).execute },
  execution: { summary: 'operator commands on runs: fail a stuck run', load: async () => (await import('./commands/execution.js')).execution },
  template: { summary: 'create, get and list policy templates', load: async () => (await import('./commands/template.js')).template },
  bundle: { summary: 'export and import decision bundles', load: async () => (await import('./commands/bundle.js')).bundle },
  audit: { summary: 'export audit packages and verify them on the server', load: async () => (await import('./commands/audit.js')).audit },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    'usage: nexus-control <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'nexus-control <command> --help' for a command's options.",
  ].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`nexus-control: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  return (await command.load())(rest, io);
}
