import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The directory of PostgreSQL's server programs (`initdb`, `pg_ctl`), e.g.
 * `/usr/lib/postgresql/15/bin`; undefined: tests that need a server of their own are skipped.
 */
export const POSTGRES_BINDIR = process.env.NEXUS_TEST_POSTGRES_BINDIR || undefined;

/**
 * A PostgreSQL server owned by one test: its own data directory and socket directory, so the
 * test can stop and start it without disturbing any other database. Unix socket only, trust
 * authentication. As root, the programs run as the `postgres` user (initdb refuses root).
 */
export interface PrivatePostgres {
  /** A connection string for its `postgres` database. */
  readonly url: string;
  start(): void;
  /** Fast shutdown: open sessions are disconnected, as when an administrator stops the server. */
  stop(): void;
  /** Stops the server (if running) and deletes its directory; safe to call more than once. */
  destroy(): void;
}

export function createPrivatePostgres(bindir: string): PrivatePostgres {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-private-pg-'));
  const data = join(dir, 'data');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const run = (program: string, args: string[]) => {
    const command = join(bindir, program);
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const options = `-k ${dir} -p ${port} -c listen_addresses='' -c fsync=on`;
  let running = false;
  const api: PrivatePostgres = {
    url: `postgres://postgres@/postgres?host=${encodeURIComponent(dir)}&port=${port}`,
    start() {
      run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
      running = true;
    },
    stop() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      running = false;
    },
    destroy() {
      try {
        if (running) api.stop();
      } catch {
        // Already gone; the directory goes anyway.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return api;
}
