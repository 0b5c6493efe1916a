import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '@nexus-control/core';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256OfToken } from '../src/auth/createAuthenticator.js';
import { ConfigError, loadConfig, parseConfig } from '../src/config/loadConfig.js';
import { ListenAddressError, parseListenAddress } from '../src/listenAddress.js';
import { STORE_PACKAGES, StoreSpecError, openStore, parseStoreSpec } from '../src/store/openStore.js';

const dir = mkdtempSync(join(tmpdir(), 'nexus-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hash = sha256OfToken('alice-token');

function problem(value: unknown): string {
  try {
    parseConfig(value, dir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration file', () => {
  it('an empty configuration means no auth, no extra adapters and 64 MiB message limits', () => {
    const config = parseConfig({}, dir);
    expect(config.auth).toBeUndefined();
    expect(config.forbidSelfApproval).toBe(false);
    expect(config.adapters).toEqual([]);
    expect(config.limits).toEqual({ maxReceiveMessageBytes: 64 * 1024 * 1024, maxSendMessageBytes: 64 * 1024 * 1024 });
  });

  it('tokens map to actors (human unless the entry says system) and roles', () => {
    const config = parseConfig(
      {
        auth: {
          tokens: [
            { sha256: hash, actor: 'alice', roles: ['requester', 'approver'] },
            { sha256: sha256OfToken('bot'), actor: 'deployer', type: 'system', roles: ['executor'] },
          ],
          forbidSelfApproval: true,
        },
      },
      dir,
    );
    expect(config.auth?.tokens).toEqual([
      { sha256: hash, actor: { type: 'human', id: 'alice' }, roles: ['requester', 'approver'] },
      { sha256: sha256OfToken('bot'), actor: { type: 'system', id: 'deployer' }, roles: ['executor'] },
    ]);
    expect(config.forbidSelfApproval).toBe(true);
  });

  it('refuses an actor id that breaks the identifier rule, at start-up', () => {
    expect(problem({ auth: { tokens: [{ sha256: hash, actor: 'ali\u0000ce', roles: ['requester'] }] } })).toMatch(
      /auth\.tokens\[0\]\.actor: must not contain control characters/,
    );
    expect(problem({ auth: { tokens: [{ sha256: hash, actor: 'x'.repeat(257), roles: ['requester'] }] } })).toMatch(/at most 256 bytes/);
  });

  it('adapters get defaults: SPEC capabilities, a 30 s timeout, the config directory as working directory', () => {
    const config = parseConfig(
      {
        adapters: [
          { id: 'deploy', type: 'subprocess', command: ['./deploy.sh', '--prod'] },
          { id: 'pay', type: 'http', url: 'http://127.0.0.1:9000/run', timeoutMs: 500, capabilities: ['apply', 'dry_run'] },
          { id: 'sim', type: 'null' },
        ],
      },
      dir,
    );
    expect(config.adapters).toEqual([
      {
        type: 'subprocess',
        id: 'deploy',
        command: ['./deploy.sh', '--prod'],
        cwd: dir,
        env: {},
        timeoutMs: 30_000,
        capabilities: ['apply', 'timeout', 'external'],
      },
      { type: 'http', id: 'pay', url: 'http://127.0.0.1:9000/run', headers: {}, timeoutMs: 500, capabilities: ['apply', 'dry_run'] },
      { type: 'null', id: 'sim' },
    ]);
  });

  it('mtls clients are matched by subject attributes; certificate files are read relative to the config file', () => {
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nca\n');
    const config = parseConfig(
      {
        auth: {
          mtls: {
            ca: 'ca.pem',
            cert: '-----BEGIN CERTIFICATE-----\ninline\n',
            key: '-----BEGIN PRIVATE KEY-----\ninline\n',
            clients: [{ subject: 'CN=bot, O=Example', actor: 'bot', type: 'system', roles: ['executor'] }],
          },
        },
      },
      dir,
    );
    expect(config.auth?.mtls?.ca.toString()).toContain('ca');
    expect(config.auth?.mtls?.clients).toEqual([
      { subject: { CN: 'bot', O: 'Example' }, actor: { type: 'system', id: 'bot' }, roles: ['executor'] },
    ]);
  });

  it('execution leases default to a 30 s lease renewed every 10 s and a 15 s sweep; a short lease scales the others down', () => {
    expect(parseConfig({}, dir).executions).toEqual({ leaseMs: 30_000, renewMs: 10_000, sweepMs: 15_000 });
    expect(parseConfig({ executions: { leaseMs: 1_500 } }, dir).executions).toEqual({ leaseMs: 1_500, renewMs: 500, sweepMs: 750 });
    expect(parseConfig({ executions: { leaseMs: 2_000, renewMs: 100, sweepMs: 50 } }, dir).executions).toEqual({
      leaseMs: 2_000,
      renewMs: 100,
      sweepMs: 50,
    });
    expect(problem({ executions: { leaseMs: 1_000, renewMs: 1_000 } })).toMatch(
      /^executions\.renewMs: must be shorter than executions\.leaseMs/,
    );
    expect(problem({ executions: { leaseMs: 50 } })).toMatch(/^executions\.leaseMs: must be at least 100/);
    expect(problem({ executions: { sweepMs: 0 } })).toMatch(/^executions\.sweepMs/);
    expect(problem({ executions: { lease: 1 } })).toMatch(/^executions: unknown key 'lease'/);
  });

  it('metrics, tracing and logging are off or default unless configured, and checked when they are', () => {
    const plain = parseConfig({}, dir);
    expect(plain.metrics).toBeUndefined();
    expect(plain.tracing).toBeUndefined();
    const full = parseConfig(
      {
        logging: { level: 'warn' },
        metrics: { listen: '127.0.0.1:9464' },
        tracing: { endpoint: 'http://127.0.0.1:4318/v1/traces', headers: { 'x-api-key': 'k' } },
      },
      dir,
    );
    expect(full).toMatchObject({
      logLevel: 'warn',
      metrics: { listen: '127.0.0.1:9464' },
      tracing: {
        endpoint: 'http://127.0.0.1:4318/v1/traces',
        headers: { 'x-api-key': 'k' },
        serviceName: 'nexus-control',
        exportIntervalMs: 1_000,
        sampleRatio: 1,
      },
    });
    expect(parseConfig({ tracing: { endpoint: 'http://c/v1/traces', sampleRatio: 0.25 } }, dir).tracing?.sampleRatio).toBe(0.25);
    expect(problem({ tracing: { endpoint: 'http://c/v1/traces', sampleRatio: 1.5 } })).toMatch(
      /^tracing\.sampleRatio: must be a number from 0 to 1/,
    );
    expect(problem({ tracing: { endpoint: 'http://c/v1/traces', sampleRatio: '0.5' } })).toMatch(/^tracing\.sampleRatio/);
    expect(problem({ logging: { level: 'loud' } })).toMatch(/^logging\.level: must be one of/);
    expect(problem({ logging: { level: 'info' }, logLevel: 'info' })).toMatch(/^logging\.level: logLevel says the same/);
    expect(problem({ metrics: {} })).toMatch(/^metrics\.listen/);
    expect(problem({ metrics: { listen: 'unix:metrics.sock' } })).toMatch(/^metrics\.listen: must be HOST:PORT/);
    expect(problem({ metrics: { listen: 'nowhere' } })).toMatch(/^metrics\.listen: /);
    expect(problem({ listen: '127.0.0.1:50051', metrics: { listen: '127.0.0.1:50051' } })).toMatch(
      /^metrics\.listen: must not be the gRPC listen address/,
    );
    expect(problem({ tracing: { endpoint: 'udp://collector:4318' } })).toMatch(/^tracing\.endpoint: must be an http/);
    expect(problem({ tracing: { endpoint: 'not a url' } })).toMatch(/^tracing\.endpoint: must be an http/);
    expect(problem({ tracing: { endpoint: 'http://c/v1/traces', exportIntervalMs: 0 } })).toMatch(/^tracing\.exportIntervalMs/);
    expect(problem({ tracing: { endpoint: 'http://c/v1/traces', sampler: 'always' } })).toMatch(/^tracing: unknown key 'sampler'/);
  });

  it('mistakes are reported with their path in the file', () => {
    expect(problem({ auth: { tokens: [{ sha256: 'alice-token', actor: 'a', roles: ['admin'] }] } })).toMatch(
      /^auth\.tokens\[0\]\.sha256: .*never the token itself/,
    );
    expect(problem({ auth: { tokens: [{ sha256: hash, actor: 'a', roles: ['root'] }] } })).toMatch(
      /^auth\.tokens\[0\]\.roles\[0\]: unknown role 'root'/,
    );
    expect(problem({ auth: { tokens: [{ sha256: hash, actor: 'a', roles: [] }] } })).toMatch(
      /^auth\.tokens\[0\]\.roles: must name at least one role/,
    );
    expect(problem({ auth: { tokens: [{ sha256: hash, actor: 'a', roles: ['admin'], type: 'robot' }] } })).toMatch(
      /^auth\.tokens\[0\]\.type/,
    );
    expect(
      problem({
        auth: {
          tokens: [
            { sha256: hash, actor: 'a', roles: ['admin'] },
            { sha256: hash, actor: 'b', roles: ['admin'] },
          ],
        },
      }),
    ).toMatch(/listed twice/);
    expect(problem({ tokens: [] })).toMatch(/^config: unknown key 'tokens'/);
    expect(problem({ adapters: [{ id: 'x', type: 'ftp' }] })).toMatch(/^adapters\[0\]\.type: must be 'null', 'subprocess' or 'http'/);
    expect(problem({ adapters: [{ id: 'x', type: 'subprocess', command: [] }] })).toMatch(/^adapters\[0\]\.command/);
    expect(problem({ adapters: [{ id: 'x', type: 'http', url: 'ftp://h/' }] })).toMatch(/^adapters\[0\]\.url/);
    expect(
      problem({
        adapters: [
          { id: 'x', type: 'null' },
          { id: 'x', type: 'null' },
        ],
      }),
    ).toMatch(/^adapters\[1\]\.id: adapter id 'x' is used twice/);
    expect(problem({ adapters: [{ id: 'x', type: 'subprocess', command: ['a'], timeoutMs: 0 }] })).toMatch(/^adapters\[0\]\.timeoutMs/);
    expect(problem({ auth: { mtls: { ca: 'missing.pem', cert: 'c', key: 'k' } } })).toMatch(
      /^auth\.mtls\.ca: cannot read .*missing\.pem: ENOENT/,
    );
    expect(problem({ limits: { maxReceiveMessageBytes: -1 } })).toMatch(/^limits\.maxReceiveMessageBytes/);
    expect(problem({ logLevel: 'loud' })).toMatch(/^logLevel/);
  });

  it('loadConfig names the file when it is missing, not JSON, or invalid', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ auth: { tokens: 'x' } }));
    expect(() => loadConfig(join(dir, 'absent.json'))).toThrow(/cannot read config file .*absent\.json: ENOENT/);
    expect(() => loadConfig(bad)).toThrow(/bad\.json is not valid JSON/);
    expect(() => loadConfig(invalid)).toThrow(/invalid\.json: auth\.tokens: must be an array/);
  });
});

describe('listen addresses', () => {
  it('parses host:port, IPv6 and unix sockets, and knows which are loopback', () => {
    expect(parseListenAddress('127.0.0.1:50051')).toEqual({ target: '127.0.0.1:50051', host: '127.0.0.1', port: 50051, loopback: true });
    expect(parseListenAddress('[::1]:0')).toMatchObject({ target: '[::1]:0', loopback: true });
    expect(parseListenAddress('localhost:9')).toMatchObject({ loopback: true });
    expect(parseListenAddress('0.0.0.0:50051')).toMatchObject({ loopback: false });
    expect(parseListenAddress('[::]:50051')).toMatchObject({ loopback: false });
    expect(parseListenAddress('10.1.2.3:1')).toMatchObject({ loopback: false });
    expect(parseListenAddress('unix:/tmp/nexus.sock')).toMatchObject({ loopback: true });
  });

  it('rejects what is not an address', () => {
    for (const bad of ['50051', 'host', 'host:99999', '[nothex]:1', '::1:50051']) {
      expect(() => parseListenAddress(bad), bad).toThrow(ListenAddressError);
    }
  });
});

describe('--store', () => {
  it('sqlite:PATH is resolved against the working directory', () => {
    expect(parseStoreSpec('sqlite:./x.db')).toEqual({ kind: 'sqlite', path: join(process.cwd(), 'x.db'), synchronous: 'full' });
    expect(parseStoreSpec('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:', synchronous: 'full' });
  });

  it('sqlite takes synchronous=full|normal and refuses any other option', () => {
    expect(parseStoreSpec('sqlite:./x.db?synchronous=normal')).toMatchObject({ synchronous: 'normal' });
    expect(() => parseStoreSpec('sqlite:./x.db?synchronous=off')).toThrow(StoreSpecError);
    expect(() => parseStoreSpec('sqlite:./x.db?journal=delete')).toThrow(StoreSpecError);
  });

  it('an unreachable PostgreSQL is STORE_UNAVAILABLE, and the error never holds its password', async () => {
    const error = await openStore('postgres://u:p4ssw0rd@127.0.0.1:1/db?connect_timeout_ms=1000').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(JSON.stringify({ message: (error as Error).message, details: (error as { details?: unknown }).details })).not.toContain(
      'p4ssw0rd',
    );
  });

  it('names the store package to install when it is missing', async () => {
    const load = async (name: string) => {
      throw Object.assign(new Error(`Cannot find package '${name}' imported from the server`), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    await expect(openStore('mongodb://localhost/db', { load })).rejects.toThrow(
      'a mongodb store needs the package @nexus-control/store-mongo, which is not installed: npm install @nexus-control/store-mongo',
    );
  });

  it('an unreachable MongoDB is STORE_UNAVAILABLE, and the error never holds its password', async () => {
    const error = await openStore('mongodb://u:p4ssw0rd@127.0.0.1:1/db?serverSelectionTimeoutMS=500').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(JSON.stringify({ message: (error as Error).message, details: (error as { details?: unknown }).details })).not.toContain(
      'p4ssw0rd',
    );
  });

  it('an unknown scheme or an empty SQLite path is refused with a clear error', async () => {
    await expect(openStore('redis://localhost')).rejects.toThrow(StoreSpecError);
    await expect(openStore('sqlite:')).rejects.toThrow(/needs a path/);
  });

  it('loads only the package of the scheme it opens, and hands it the URL', async () => {
    const loaded: string[] = [];
    const fakeStore = { close: async () => {} } as unknown as EventStore;
    const load = async (name: string) => {
      loaded.push(name);
      return {
        openPostgresStore: (url: unknown, options: unknown) => (
          expect([url, options]).toEqual(['postgres://db.internal/nexus', { migrate: false }]),
          fakeStore
        ),
      };
    };
    expect(await openStore('postgres://db.internal/nexus', { load, migrate: false })).toBe(fakeStore);
    expect(loaded).toEqual([STORE_PACKAGES.postgres.packageName]);
    await expect(openStore('mongodb://db.internal/nexus', { load })).rejects.toThrow(
      '@nexus-control/store-mongo does not export openMongoStore',
    );
  });

  it('opens the SQLite store through its package', async () => {
    const store = await openStore('sqlite::memory:');
    expect(await store.listDecisions({ limit: 1 })).toMatchObject({ items: [] });
    await store.close();
  });
});
