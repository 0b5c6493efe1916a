import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/CliIo.js';
import type { AuthConfig } from '../src/config/ServerConfig.js';
import { main } from '../src/cli/main.js';
import { tempDir } from './helpers/tempDir.js';
import { certificatesIn } from './helpers/certificates.js';
import { startTestServer, tokenAuth, type TestServer } from './helpers/testServer.js';

const BIN = fileURLToPath(new URL('../bin/nexus-control.js', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process with captured output; `person` picks the token (`<person>-token`). */
async function cli(server: TestServer, person: string | undefined, args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (text) => out.push(text.endsWith('\n') ? text : text + '\n'),
    err: (text) => err.push(text.endsWith('\n') ? text : text + '\n'),
    env: { NEXUS_CONTROL_SERVER: server.server.address, ...(person === undefined ? {} : { NEXUS_CONTROL_TOKEN: `${person}-token` }) },
  };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function json(run: Run): Record<string, any> {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Record<string, any>;
}

/** Runs the real binary; resolves when it exits. */
function spawnCli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('nexus-control client commands over gRPC', () => {
  let server: TestServer;
  const dir = tempDir('nexus-cli-');
  let decisionId = '';

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
    dir.remove();
  });

  it('a template with two required approvals is created, listed and read back', async () => {
    const created = json(
      await cli(server, 'root', [
        'template',
        'create',
        'two-person',
        '--min-approvals',
        '2',
        '--label',
        'prod',
        '--description',
        'two people sign off',
        '--json',
      ]),
    );
    expect(created['name']).toBe('two-person');
    expect(created['policy']).toMatchObject({ min_approvals: 2, labels: ['prod'] });
    expect(created['digest']).toMatch(/^[0-9a-f]{64}$/);

    const listed = await cli(server, 'alice', ['template', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+APPROVALS/);
    expect(listed.stdout).toContain('two-person');

    const read = json(await cli(server, 'alice', ['template', 'get', 'two-person', '--json']));
    expect(read['digest']).toBe(created['digest']);
  });

  it('a decision goes from request to a verified audit package: two approvals, a revocation, execution with the null adapter', async () => {
    const created = await cli(server, 'alice', [
      'decision',
      'create',
      '--goal',
      'rotate the signing key',
      '--plan',
      'step one',
      '--template',
      'two-person',
      '--quiet',
    ]);
    expect(created.code).toBe(0);
    decisionId = created.stdout.trim();
    expect(decisionId).not.toBe('');
    expect(decisionId).not.toContain('\n');

    const pending = json(await cli(server, 'alice', ['decision', 'get', decisionId, '--json', '--lifecycle']));
    expect(pending).toMatchObject({
      decision_id: decisionId,
      status: 'pending_approval',
      goal: 'rotate the signing key',
      plan: 'step one',
      requested_mode: 'dry_run',
    });
    expect(pending['requester']).toEqual({ type: 'human', id: 'alice' });
    expect(pending['policy']['template']['name']).toBe('two-person');
    expect(pending['lifecycle']['blocking_reasons'].length).toBeGreaterThan(0);

    const readable = await cli(server, 'alice', ['decision', 'get', decisionId]);
    expect(readable.code).toBe(0);
    expect(readable.stdout).toContain(`decision ${decisionId}  pending_approval`);
    expect(readable.stdout).toContain('blocked by:');

    const first = await cli(server, 'bob', ['approve', decisionId, '--comment', 'looks right']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`approved ${decisionId}: 1 of 2 approvals, now pending_approval`);
    const repeated = await cli(server, 'bob', ['approve', decisionId]);
    expect(repeated).toMatchObject({ code: 1, stdout: '' });
    expect(repeated.stderr).toMatch(/^error \[ALREADY_APPROVED\]: /);

    const second = json(await cli(server, 'carol', ['approve', decisionId, '--expires-in', '1h', '--json']));
    expect(second['status']).toBe('approved');
    expect(second['active_approvals']).toBe(2);
    expect(second['approvals'].map((a: { actor: { id: string } }) => a.actor.id)).toEqual(['bob', 'carol']);
    expect(second['approvals'][0]['comment']).toBe('looks right');
    expect(second['approvals'][1]['expires_at']).toMatch(/\+00:00$/);

    const revoked = json(await cli(server, 'carol', ['revoke', decisionId, '--reason', 'wrong window', '--json']));
    expect(revoked).toMatchObject({ status: 'pending_approval', active_approvals: 1 });
    expect(revoked['approvals'][1]).toMatchObject({ revoked_reason: 'wrong window', active: false });
    expect(json(await cli(server, 'carol', ['approve', decisionId, '--json']))['status']).toBe('approved');

    const executed = json(await cli(server, 'deployer', ['execute', decisionId, '--adapter', 'null', '--json']));
    expect(executed['decision']['status']).toBe('completed');
    expect(executed['execution']).toMatchObject({ adapter_id: 'null', dry_run: true, status: 'completed', steps_executed: 1 });
    expect(executed['execution']['actor']).toEqual({ type: 'system', id: 'deployer' });
    expect(executed['router_response']).toMatchObject({ status: 'completed', simulated: true, run_id: executed['execution']['run_id'] });

    const listed = json(await cli(server, 'auditor', ['decision', 'list', '--status', 'completed', '--json']));
    expect(listed['decisions'].map((d: { decision_id: string }) => d.decision_id)).toContain(decisionId);
    expect(listed['next_page_token']).toBeNull();

    // The whole log, replayed from the start of the feed, one JSON object per line.
    const watched = await cli(server, 'auditor', ['decision', 'watch', decisionId, '--from-start', '--count', '9', '--json']);
    expect(watched.code).toBe(0);
    const events = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, any>);
    expect(events.map((event) => event['type'])).toEqual([
      'DECISION_CREATED',
      'POLICY_ATTACHED',
      'APPROVAL_GRANTED',
      'APPROVAL_GRANTED',
      'APPROVAL_REVOKED',
      'APPROVAL_GRANTED',
      'EXECUTION_REQUESTED',
      'EXECUTION_STARTED',
      'EXECUTION_COMPLETED',
    ]);
    expect(events.map((event) => event['seq'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events[0]!['payload']).toEqual({
      goal: 'rotate the signing key',
      plan: 'step one',
      requested_mode: 'dry_run',
      labels: ['prod'],
    });
    expect(events.every((event) => event['kind'] === 'event' && event['generation'] === 0)).toBe(true);

    // A script keeps the token of the last line it handled and resumes there: exactly the rest, then caught_up.
    const resumed = await cli(server, 'auditor', [
      'decision',
      'watch',
      decisionId,
      '--after',
      events[5]!['checkpoint'],
      '--until-caught-up',
      '--json',
    ]);
    expect(resumed.code).toBe(0);
    const lines = resumed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, any>);
    expect(lines.map((line) => line['kind'])).toEqual(['event', 'event', 'event', 'caught_up']);
    expect(lines.slice(0, 3).map((line) => line['seq'])).toEqual([6, 7, 8]);
    expect(lines.slice(0, 3).map((line) => line['checkpoint'])).toEqual(events.slice(6).map((event) => event['checkpoint']));
    expect(lines[3]!['checkpoint']).toEqual(expect.any(String));
    const text = await cli(server, 'auditor', ['decision', 'watch', decisionId, '--after', events[7]!['checkpoint'], '--until-caught-up']);
    expect(text.code).toBe(0);
    const textLines = text.stdout.trim().split('\n');
    expect(textLines[0]!.split('  ').slice(0, 4)).toEqual([events[8]!['checkpoint'], events[8]!['ts'], decisionId, '#8']);
    expect(textLines[1]).toMatch(/^caught_up \S+$/);
    const bad = await cli(server, 'auditor', ['decision', 'watch', decisionId, '--after', 'nonsense', '--until-caught-up']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('INVALID_ARGUMENT');

    const packagePath = join(dir.path, 'audit.json');
    const exported = json(await cli(server, 'auditor', ['audit', 'export', decisionId, '--out', packagePath, '--json']));
    expect(exported['binding_digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    const auditPackage = JSON.parse(readFileSync(packagePath, 'utf8')) as Record<string, any>;
    expect(auditPackage['integrity']['binding_digest']).toBe(exported['binding_digest']);
    expect(auditPackage['router']['mode']).toBe('reference');

    const verified = await cli(server, 'auditor', ['audit', 'verify', packagePath]);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/VERIFIED: all \d+ checks passed/);
    const report = json(await cli(server, 'alice', ['audit', 'verify', packagePath, '--json']));
    expect(report['ok']).toBe(true);
    expect(report['checks'].slice(0, 6).map((check: { name: string }) => check.name)).toEqual([
      'binding_digest',
      'control_bundle_digest',
      'binding_control_match',
      'binding_router_match',
      'binding_link_match',
      'router_digest',
    ]);

    // The same file verifies offline, without the server.
    expect((await cli(server, undefined, ['verify', packagePath])).code).toBe(0);
  });

  it('a tampered audit package fails server-side verification with exit status 1 and names the failed checks', async () => {
    const packagePath = join(dir.path, 'tampered.json');
    const exported = await cli(server, 'auditor', ['audit', 'export', decisionId, '--mode', 'embedded']);
    expect(exported.code).toBe(0);
    const auditPackage = JSON.parse(exported.stdout) as Record<string, any>;
    expect(auditPackage['router']['mode']).toBe('embedded');
    auditPackage['control_bundle']['decision']['goal'] = 'something else';
    writeFileSync(packagePath, JSON.stringify(auditPackage));

    const verified = await cli(server, 'auditor', ['audit', 'verify', packagePath]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/NOT VERIFIED: \d+ of \d+ checks failed/);
    expect(verified.stdout).toMatch(/FAIL\s+control_bundle_digest/);
  });

  it('a bundle exported to a file imports under a new id with a replay, and a second plain import is rejected', async () => {
    const bundlePath = join(dir.path, 'bundle.json');
    const exported = await cli(server, 'auditor', ['bundle', 'export', decisionId, '--out', bundlePath]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/canonical digest: sha256:[0-9a-f]{64}/);

    const imported = json(
      await cli(server, 'root', ['bundle', 'import', bundlePath, '--conflict-mode', 'new_decision_id', '--replay', '--json']),
    );
    expect(imported).toMatchObject({ ok: true, digest_verified: true, conflict_mode: 'new_decision_id', replay_ran: true });
    expect(imported['imported']['original_decision_id']).toBe(decisionId);
    expect(imported['imported']['decision_id']).not.toBe(decisionId);
    expect(imported['imported']['events_imported']).toBe(9);
    const copy = json(await cli(server, 'auditor', ['decision', 'get', imported['imported']['decision_id'], '--json']));
    expect(copy['status']).toBe('completed');

    const again = await cli(server, 'root', ['bundle', 'import', bundlePath]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^error \[DECISION_EXISTS\]: /);
  });

  it('server errors print "error [CODE]: message" on stderr and exit 1', async () => {
    const approvedTwice = await cli(server, 'bob', ['approve', decisionId]);
    expect(approvedTwice.code).toBe(1);
    expect(approvedTwice.stdout).toBe('');
    expect(approvedTwice.stderr).toMatch(/^error \[INVALID_STATE\]: .+\n$/);

    const missing = await cli(server, 'alice', ['decision', 'get', 'dec_does_not_exist', '--json']);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(JSON.parse(missing.stderr)).toEqual({
      error: { code: 'DECISION_NOT_FOUND', message: expect.stringContaining('dec_does_not_exist') },
    });

    const wrongRole = await cli(server, 'bob', ['decision', 'create', '--goal', 'g']);
    expect(wrongRole.code).toBe(1);
    expect(wrongRole.stderr).toMatch(/^error \[PERMISSION_DENIED\]: /);

    const anonymous = await cli(server, undefined, ['decision', 'list']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/^error \[UNAUTHENTICATED\]: /);

    const notApproved = json(
      await cli(server, 'alice', ['decision', 'create', '--goal', 'pay the invoice', '--min-approvals', '2', '--json']),
    );
    const blocked = await cli(server, 'deployer', ['execute', notApproved['decision_id'], '--adapter', 'null']);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/^error \[(INVALID_STATE|POLICY_VIOLATION)\]: /);
  });

  it('a server that is not there is reported as UNAVAILABLE', async () => {
    const run = await main(['decision', 'list', '--server', '127.0.0.1:1', '--timeout', '5s'], {
      out: () => undefined,
      err: (text) => expect(text).toMatch(/^error \[UNAVAILABLE\]: /),
      env: {},
    });
    expect(run).toBe(1);
  });

  it('usage errors exit 2 without calling the server', async () => {
    const noGoal = await cli(server, 'alice', ['decision', 'create']);
    expect(noGoal.code).toBe(2);
    expect(noGoal.stderr).toMatch(/^error \[USAGE\]: --goal is required/);

    const cases = [
      ['decision', 'frobnicate'],
      ['decision', 'get'],
      ['decision', 'create', '--goal', 'g', '--mode', 'yolo'],
      ['decision', 'list', '--status', 'nearly'],
      ['approve', decisionId, '--expires-at', '2030-01-01T00:00:00'],
      ['execute', decisionId],
      ['bundle', 'import', join(dir.path, 'no-such-file.json')],
      ['audit', 'export', decisionId, '--mode', 'sideways'],
      ['template', 'list', '--timeout', 'soon'],
      ['decision', 'list', '--unknown-flag'],
    ];
    for (const args of cases) {
      const run = await cli(server, 'root', args);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr).toMatch(/^error \[USAGE\]: /);
    }
  });

  it('--help prints the options of a command and exits 0', async () => {
    const help = await cli(server, undefined, ['decision', 'create', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--min-approvals N');
    expect(help.stdout).toContain('--server HOST:PORT');
    const top = await cli(server, undefined, ['--help']);
    for (const command of ['decision', 'approve', 'revoke', 'execute', 'template', 'bundle', 'audit', 'serve', 'verify']) {
      expect(top.stdout).toContain(`  ${command} `);
    }
  });

  it('the real binary talks to the server, taking the address and token from the environment', async () => {
    const run = await spawnCli(['decision', 'get', decisionId, '--json'], {
      NEXUS_CONTROL_SERVER: server.server.address,
      NEXUS_CONTROL_TOKEN: 'auditor-token',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ decision_id: decisionId, status: 'completed' });

    const failed = await spawnCli(['decision', 'get', 'dec_missing', '--server', server.server.address, '--token', 'auditor-token'], {});
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error \[DECISION_NOT_FOUND\]: /);
  });
});

describe('nexus-control client commands over mutual TLS', () => {
  const dir = tempDir('nexus-cli-mtls-');
  const file = (name: string) => join(dir.path, name);
  const { selfSigned, issue } = certificatesIn(dir.path);
  let server: TestServer;

  beforeAll(async () => {
    selfSigned('ca', '/CN=test-ca');
    for (const [name, subject] of [
      ['server', '/CN=localhost'],
      ['bot', '/CN=release-bot'],
    ] as const) {
      issue(name, subject, 'ca', 'subjectAltName=DNS:localhost\n');
    }
    const auth: AuthConfig = {
      tokens: tokenAuth.tokens,
      mtls: {
        ca: readFileSync(file('ca.crt')),
        cert: readFileSync(file('server.crt')),
        key: readFileSync(file('server.key')),
        clients: [{ subject: { CN: 'release-bot' }, actor: { type: 'system', id: 'release-bot' }, roles: ['requester'] }],
      },
    };
    server = await startTestServer({ auth });
  });
  afterAll(async () => {
    await server?.close();
    dir.remove();
  });

  it('--tls-ca, --tls-cert and --tls-key authenticate the caller by its client certificate', async () => {
    const tls = ['--tls-ca', file('ca.crt'), '--tls-cert', file('bot.crt'), '--tls-key', file('bot.key'), '--tls-server-name', 'localhost'];
    const created = json(await cli(server, undefined, ['decision', 'create', '--goal', 'ship release 1.2', ...tls, '--json']));
    expect(created['requester']).toEqual({ type: 'system', id: 'release-bot' });

    const withoutCertificate = await cli(server, undefined, [
      'decision',
      'list',
      '--tls-ca',
      file('ca.crt'),
      '--tls-server-name',
      'localhost',
      '--timeout',
      '5s',
    ]);
    expect(withoutCertificate.code).toBe(1);
    expect(withoutCertificate.stderr).toMatch(/^error \[UNAVAILABLE\]: /);

    const halfPair = await cli(server, undefined, ['decision', 'list', '--tls-ca', file('ca.crt'), '--tls-cert', file('bot.crt')]);
    expect(halfPair.code).toBe(2);
    expect(halfPair.stderr).toMatch(/^error \[USAGE\]: --tls-cert and --tls-key go together/);
  });
});

describe('nexus-control serve and the client commands, both as real processes', () => {
  it('serve reports its bound address; create, approve, execute and audit export run against it', async () => {
    const dir = tempDir('nexus-cli-serve-');
    const serve = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', '--store', `sqlite:${join(dir.path, 'nexus.db')}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let buffered = '';
        const timer = setTimeout(() => reject(new Error(`serve did not report readiness: ${buffered}`)), 20_000);
        serve.stderr.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          for (const line of buffered.split('\n')) {
            if (!line.startsWith('{')) continue;
            try {
              const entry = JSON.parse(line) as { msg?: string; address?: string };
              if (entry.msg === 'listening' && entry.address) {
                clearTimeout(timer);
                resolve(entry.address);
              }
            } catch {
              // a partial line; wait for the rest
            }
          }
        });
        serve.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${buffered}`)));
      });
      const env = { NEXUS_CONTROL_SERVER: address };
      const created = await spawnCli(['decision', 'create', '--goal', 'restart the batch job', '-q'], env);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const id = created.stdout.trim();

      // Without authentication every caller is the local admin: one approval is enough by default.
      const io = (sink: string[]): CliIo => ({ out: (text) => sink.push(text), err: (text) => sink.push(text), env });
      const output: string[] = [];
      expect(await main(['approve', id], io(output))).toBe(0);
      expect(await main(['execute', id, '--adapter', 'null'], io(output))).toBe(0);
      const auditPath = join(dir.path, 'audit.json');
      expect(await main(['audit', 'export', id, '--out', auditPath], io(output))).toBe(0);
      expect(output.join('\n')).toContain(`executed ${id}: completed`);

      const verified = await spawnCli(['audit', 'verify', auditPath], env);
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/VERIFIED: all \d+ checks passed/);
    } finally {
      serve.kill('SIGTERM');
      await new Promise((resolve) => (serve.exitCode === null ? serve.once('exit', resolve) : resolve(undefined)));
      dir.remove();
    }
  });
});
