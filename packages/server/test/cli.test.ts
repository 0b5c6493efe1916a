import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  canonicalJson,
  createMemoryEventStore,
  createNexusControl,
  createNullAdapter,
  createRouter,
  exportAuditPackage,
  exportBundle,
  fixedClock,
  JsonFloat,
  parseJson,
  type JsonObject,
  type RouterAdapter,
} from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/CliIo.js';
import { main } from '../src/cli/main.js';
import { sha256OfToken } from '../src/auth/createAuthenticator.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const binary = join(repoRoot, 'packages/server/bin/nexus-control.js');

let dir: string;
const file = (name: string) => join(dir, name);

interface Captured {
  readonly io: CliIo;
  readonly out: () => string;
  readonly err: () => string;
}

function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t), env: {} }, out: () => out.join('\n'), err: () => err.join('\n') };
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await main(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

const lossy: RouterAdapter = {
  id: 'lossy',
  capabilities: ['dry_run'],
  async run() {
    return { run_id: 'run_cli_1', status: 'completed', steps_executed: 1, ratio: new JsonFloat(1), tiny: 1e-7, big: 9007199254740993n };
  },
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nexus-cli-'));
  const store = createMemoryEventStore();
  const clock = fixedClock('2025-03-01T12:00:00+00:00');
  const control = createNexusControl({ store, clock, router: createRouter([createNullAdapter(), lossy]) });
  const { decisionId } = await control.request({ goal: 'rotate keys', mode: 'dry_run' }, { actor: { type: 'human', id: 'requester' } });
  clock.advance(1_000_000);
  await control.approve(decisionId, {}, { actor: { type: 'human', id: 'alice' } });
  await control.execute(decisionId, { adapterId: 'lossy' }, { actor: { type: 'system', id: 'scheduler' } });
  const pkg = (await exportAuditPackage(store, decisionId, { mode: 'embedded', clock })) as unknown as JsonObject;
  writeFileSync(file('package.json'), canonicalJson(pkg));
  writeFileSync(file('bundle.json'), JSON.stringify(await exportBundle(store, decisionId, { clock }), null, 2));
  const tampered = parseJson(canonicalJson(pkg)) as JsonObject;
  ((tampered['control_bundle'] as JsonObject)['decision'] as JsonObject)['goal'] = 'rotate other keys';
  writeFileSync(file('tampered.json'), canonicalJson(tampered));
  writeFileSync(file('broken.json'), '{"package_version": "0.6", ');
  writeFileSync(file('other.json'), '{"hello": "world"}');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the real binary (exit codes)', () => {
  const spawn = (...args: string[]) => spawnSync(process.execPath, [binary, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });

  it('exits 0 when every check passes', () => {
    const result = spawn('verify', file('package.json'));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('VERIFIED');
  });

  it('exits 1 when a check fails', () => {
    const result = spawn('verify', file('tampered.json'), '--json');
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, kind: 'audit_package' });
  });

  it('reads standard input for FILE "-"', () => {
    const result = spawnSync(process.execPath, [binary, 'verify', '-', '--json'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
      input: readFileSync(file('package.json'), 'utf8'),
    });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
  });

  it('exits 2 with a one-line reason when the input cannot be read', () => {
    const result = spawn('verify', file('missing.json'));
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^error \[USAGE\]: cannot read file .*missing\.json: ENOENT/);
  });
});

describe('nexus-control verify', () => {
  it('prints a readable report: a line per check and a verdict', async () => {
    const { code, out } = await run('verify', file('package.json'));
    expect(code).toBe(0);
    expect(out).toMatch(/^audit package for dec_\w+ \(sha256:[0-9a-f]{64}\)/);
    for (const name of [
      'binding_digest',
      'control_bundle_digest',
      'binding_control_match',
      'binding_router_match',
      'binding_link_match',
      'router_digest',
      'replay_status',
    ]) {
      expect(out).toMatch(new RegExp(`^  PASS  ${name} `, 'm'));
    }
    expect(out).toMatch(/^VERIFIED: all \d+ checks passed$/m);
  });

  it('--json prints the structured report', async () => {
    const { code, out } = await run('verify', '--json', file('package.json'));
    expect(code).toBe(0);
    const report = JSON.parse(out) as { ok: boolean; checks: { name: string; ok: boolean }[]; passed: number; total: number };
    expect(report.ok).toBe(true);
    expect(report.passed).toBe(report.total);
    expect(report.checks[0]).toMatchObject({ name: 'binding_digest', ok: true });
  });

  it('a tampered package: FAIL lines with expected and actual, exit 1', async () => {
    const { code, out } = await run('verify', file('tampered.json'));
    expect(code).toBe(1);
    expect(out).toMatch(/^  FAIL  control_bundle_digest /m);
    expect(out).toMatch(/^ +expected: sha256:/m);
    expect(out).toMatch(/^NOT VERIFIED: \d+ of \d+ checks failed \(control_bundle_digest, .*\)$/m);
  });

  it('verifies a bare bundle too', async () => {
    const { code, out } = await run('verify', file('bundle.json'));
    expect(code).toBe(0);
    expect(out).toMatch(/^decision bundle for dec_/);
    expect(out).toMatch(/^  PASS  bundle_digest /m);
  });

  it('refuses a document with a duplicate key instead of printing VERIFIED for one reading of it', async () => {
    // The last "goal" is the one the digests cover; a reader keeping the first would see another goal.
    const text = readFileSync(file('bundle.json'), 'utf8').replace(
      '"goal": "rotate keys"',
      '"goal": "delete every key", "goal": "rotate keys"',
    );
    writeFileSync(file('duplicate.json'), text);
    const { code, out, err } = await run('verify', file('duplicate.json'));
    expect(code).toBe(2);
    expect(out).not.toMatch(/VERIFIED/);
    expect(err).toMatch(/duplicate key "goal"/);
  });

  it('input it cannot use exits 2 with one line on stderr', async () => {
    const cases: string[][] = [
      ['verify', file('broken.json')],
      ['verify', file('other.json')],
      ['verify'],
      ['verify', file('package.json'), file('bundle.json')],
      ['verify', '--frobnicate', file('package.json')],
      ['verify', file('bundle.json'), '--public-key', file('package.json')],
      ['verify', file('package.json'), '--public-key', file('missing.pem')],
      ['verify', file('package.json'), '--public-key', file('other.json')],
    ];
    for (const argv of cases) {
      const { code, out, err } = await run(...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(out).toBe('');
      expect(err.split('\n'), argv.join(' ')).toHaveLength(1);
      expect(err).toMatch(/^error \[[A-Z_]+\]: /);
    }
  });

  it('--help exits 0', async () => {
    const { code, out } = await run('verify', '--help');
    expect(code).toBe(0);
    expect(out).toContain('usage: nexus-control verify FILE');
  });
});

describe('nexus-control keygen and sign', () => {
  it('keygen --out writes PREFIX.key (mode 0600) and PREFIX.pub, and never overwrites them', async () => {
    const { code, out } = await run('keygen', '--out', file('signer'));
    expect(code).toBe(0);
    expect(out).toMatch(/key id: ed25519:[0-9a-f]{16}/);
    expect(statSync(file('signer.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(file('signer.key'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(readFileSync(file('signer.pub'), 'utf8')).toContain('BEGIN PUBLIC KEY');
    const before = readFileSync(file('signer.key'), 'utf8');
    const again = await run('keygen', '--out', file('signer'));
    expect(again.code).toBe(2);
    expect(readFileSync(file('signer.key'), 'utf8')).toBe(before);
  });

  it('keygen without --out prints both keys and the key id', async () => {
    const { code, out } = await run('keygen');
    expect(code).toBe(0);
    expect(out).toContain('BEGIN PRIVATE KEY');
    expect(out).toContain('BEGIN PUBLIC KEY');
    expect(out).toMatch(/^key id: ed25519:[0-9a-f]{16}$/m);
  });

  it('sign attaches an attestation; verify --public-key then requires it', async () => {
    await run('keygen', '--out', file('a'));
    await run('keygen', '--out', file('b'));
    const signed = await run('sign', file('package.json'), '--signing-key', file('a.key'), '--out', file('signed.json'));
    expect(signed.code).toBe(0);
    expect(signed.err).toMatch(/^signed by ed25519:[0-9a-f]{16}; wrote /);

    const text = readFileSync(file('signed.json'), 'utf8');
    for (const literal of ['"ratio": 1.0', '"tiny": 1e-07', '"big": 9007199254740993']) expect(text).toContain(literal);
    const original = parseJson(readFileSync(file('package.json'), 'utf8')) as JsonObject;
    const document = parseJson(text) as JsonObject;
    expect(document['integrity']).toEqual(original['integrity']);
    expect(document['attestations']).toHaveLength(1);

    expect((await run('verify', file('signed.json'))).code).toBe(0);
    expect((await run('verify', file('signed.json'), '--public-key', file('a.pub'))).code).toBe(0);
    const wrong = await run('verify', file('signed.json'), '--public-key', file('b.pub'), '--json');
    expect(wrong.code).toBe(1);
    const failed = (JSON.parse(wrong.out) as { checks: { name: string; ok: boolean }[] }).checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toEqual([expect.stringMatching(/^attestation\[0\]:ed25519:/), expect.stringMatching(/^attestation_required:ed25519:/)]);
  });

  it('sign writes to stdout without --out, and a second signer adds a second attestation', async () => {
    await run('keygen', '--out', file('c'));
    await run('keygen', '--out', file('d'));
    const first = await run('sign', file('package.json'), '--signing-key', file('c.key'), '--signed-at', '2025-05-01T00:00:00+00:00');
    expect(first.code).toBe(0);
    writeFileSync(file('once.json'), first.out);
    const second = await run('sign', file('once.json'), '--signing-key', file('d.key'), '--out', file('twice.json'));
    expect(second.code).toBe(0);
    const twice = parseJson(readFileSync(file('twice.json'), 'utf8')) as JsonObject;
    expect(twice['attestations']).toHaveLength(2);
    expect((await run('verify', file('twice.json'), '--public-key', file('c.pub'), '--public-key', file('d.pub'))).code).toBe(0);
  });

  it('sign refuses a package that fails verification (exit 1) and bad input (exit 2)', async () => {
    await run('keygen', '--out', file('e'));
    const refused = await run('sign', file('tampered.json'), '--signing-key', file('e.key'), '--out', file('nope.json'));
    expect(refused.code).toBe(1);
    expect(existsSync(file('nope.json'))).toBe(false);
    for (const argv of [
      ['sign', file('package.json')],
      ['sign', file('package.json'), '--signing-key', file('e.pub')],
      ['sign', file('package.json'), '--signing-key', file('missing.key')],
      ['sign', file('bundle.json'), '--signing-key', file('e.key')],
      ['sign', file('broken.json'), '--signing-key', file('e.key')],
      ['sign', file('package.json'), '--signing-key', file('e.key'), '--signed-at', 'yesterday'],
    ]) {
      const { code, err } = await run(...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(err.split('\n')).toHaveLength(1);
    }
  });
});

describe('nexus-control token', () => {
  it('hashes a token exactly as the server compares it, and generates new ones with their config entry', async () => {
    const out: string[] = [];
    const io: CliIo = { out: (t) => void out.push(t), err: (t) => void out.push(t), env: {} };
    expect(await main(['token', 'hash', 's3cret'], io)).toBe(0);
    expect(out.pop()).toBe(sha256OfToken('s3cret'));
    expect(await main(['token', 'new', '--actor', 'bob', '--role', 'approver'], io)).toBe(0);
    const [tokenLine, configLine] = out.pop()!.split('\n');
    const secret = tokenLine!.replace('token:  ', '');
    expect(JSON.parse(configLine!.replace('config: ', ''))).toEqual({ sha256: sha256OfToken(secret), actor: 'bob', roles: ['approver'] });
    expect(await main(['token', 'frobnicate'], io)).toBe(2);
  });
});
