/**
 * Every command, subcommand and flag, for shell completion and for `help`. Each command module
 * still parses its own flags; a test checks that each flag listed here appears in the command's help.
 */
export interface CommandInfo {
  readonly summary: string;
  readonly flags: readonly string[];
  readonly subcommands?: Readonly<Record<string, readonly string[]>>;
  /** Takes the connection flags of the client commands. */
  readonly client?: boolean;
}

export const CLIENT_FLAGS = [
  '--server',
  '--token',
  '--tls',
  '--tls-ca',
  '--tls-cert',
  '--tls-key',
  '--tls-server-name',
  '--timeout',
  '--json',
] as const;

const POLICY_FLAGS = [
  '--min-approvals',
  '--allowed-modes',
  '--require-capability',
  '--max-steps',
  '--no-max-steps',
  '--label',
  '--no-labels',
];

export const COMMAND_TREE: Readonly<Record<string, CommandInfo>> = {
  serve: { summary: 'run the gRPC API server', flags: ['--listen', '--store', '--config', '--log-level', '--no-migrate'] },
  migrate: { summary: 'apply pending schema migrations to a PostgreSQL store', flags: ['--store'] },
  verify: { summary: 'verify an audit package or bundle offline', flags: ['--json', '--public-key'] },
  sign: { summary: 'attach an Ed25519 attestation to an audit package', flags: ['--signing-key', '--out', '--signed-at'] },
  keygen: { summary: 'generate an Ed25519 key pair for signing', flags: ['--out'] },
  token: {
    summary: 'generate a bearer token, or hash one for the configuration',
    flags: [],
    subcommands: { new: ['--actor', '--role'], hash: [] },
  },
  decision: {
    summary: 'create, get, list and watch decisions',
    flags: [],
    client: true,
    subcommands: {
      create: ['--goal', '--plan', '--mode', '--template', '--idempotency-key', '--quiet', ...POLICY_FLAGS],
      get: ['--at-seq', '--as-of', '--lifecycle'],
      list: ['--label', '--status', '--limit', '--page-token'],
      watch: ['--after', '--from-start', '--checkpoint-interval', '--count', '--until-caught-up'],
    },
  },
  approve: { summary: 'approve a decision', flags: ['--comment', '--expires-at', '--expires-in', '--idempotency-key'], client: true },
  revoke: { summary: 'withdraw an approval', flags: ['--reason', '--idempotency-key'], client: true },
  execute: {
    summary: 'execute an approved decision through a router adapter',
    flags: ['--adapter', '--mode', '--idempotency-key'],
    client: true,
  },
  execution: {
    summary: 'operator commands on runs: fail a stuck run',
    flags: [],
    client: true,
    subcommands: { fail: ['--reason', '--idempotency-key'] },
  },
  template: {
    summary: 'create, get and list policy templates',
    flags: [],
    client: true,
    subcommands: { create: ['--description', '--idempotency-key', ...POLICY_FLAGS], get: [], list: [] },
  },
  bundle: {
    summary: 'export and import decision bundles',
    flags: [],
    client: true,
    subcommands: { export: ['--out'], import: ['--conflict-mode', '--replay', '--no-replay'] },
  },
  audit: {
    summary: 'export audit packages and verify them on the server',
    flags: [],
    client: true,
    subcommands: { export: ['--mode', '--router-bundle', '--out'], verify: [] },
  },
  completion: { summary: 'print a shell completion script (bash, zsh or fish)', flags: [] },
  help: { summary: 'show the help of a command', flags: [] },
  version: { summary: 'print the version', flags: [] },
};

/** Flags that used to mean different things in different commands, and what replaced them. */
export const RENAMED_FLAGS: Readonly<Record<string, string>> = {
  '--key': '--signing-key (sign), --public-key (verify) or --tls-key (client commands)',
  '--ca': '--tls-ca',
  '--cert': '--tls-cert',
  '--server-name': '--tls-server-name',
};
