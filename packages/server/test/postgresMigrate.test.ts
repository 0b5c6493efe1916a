import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/CliIo.js';
import { main } from '../src/cli/main.js';
import { postgresSchema, TEST_POSTGRES_URL, type PostgresSchema } from './helpers/postgresSchema.js';

function bufferIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text), env: {} };
}

describe('nexus-control migrate', () => {
  const schemas: PostgresSchema[] = [];
  afterAll(async () => {
    for (const schema of schemas) await schema.drop();
  });

  it.skipIf(TEST_POSTGRES_URL === undefined)('applies the migrations once, then reports the schema up to date', async () => {
    const schema = postgresSchema();
    schemas.push(schema);
    const first = bufferIo();
    expect(await main(['migrate', '--store', schema.storeUrl], first)).toBe(0);
    expect(first.stdout.join('\n')).toMatch(new RegExp(`schema ${schema.name}: applied 1, 2; now at version 2`));
    const second = bufferIo();
    expect(await main(['migrate', '--store', schema.storeUrl], second)).toBe(0);
    expect(second.stdout.join('\n')).toMatch(/up to date at version 2/);
    const rows = await schema.sql<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
  });

  it('fails with exit status 1 on an unreachable database, without printing its password', async () => {
    const io = bufferIo();
    expect(await main(['migrate', '--store', 'postgres://ops:t0psecret@127.0.0.1:1/nexus?connect_timeout_ms=1000'], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/STORE_UNAVAILABLE/);
    expect([...io.stdout, ...io.stderr].join('\n')).not.toContain('t0psecret');
  });

  it('refuses stores without explicit migrations and a missing --store, with exit status 2', async () => {
    expect(await main(['migrate', '--store', 'sqlite:./x.db'], bufferIo())).toBe(2);
    expect(await main(['migrate'], bufferIo())).toBe(2);
  });
});
