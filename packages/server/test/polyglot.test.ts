import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256OfToken } from '../src/auth/createAuthenticator.js';
import type { AuthConfig } from '../src/config/ServerConfig.js';
import { tempDir } from './helpers/tempDir.js';
import { startTestServer, type TestServer } from './helpers/testServer.js';

// Debian's Python toolchain, by absolute path: another python3 or protoc first on PATH
// (e.g. the npm protoc, whose generated code needs a newer Python protobuf runtime) would
// not match python3-grpcio 1.51 and python3-protobuf 3.21.
const PYTHON = '/usr/bin/python3';
const PROTOC = '/usr/bin/protoc';
const GRPC_PYTHON_PLUGIN = '/usr/bin/grpc_python_plugin';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const protoDir = join(repoRoot, 'proto');
const script = join(repoRoot, 'tools', 'polyglot', 'lifecycle_client.py');

/** Why the Python toolchain cannot run here, or undefined when it can. */
function missingToolchain(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found (Debian package python3)`;
  const probe = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} cannot import grpc and google.protobuf (Debian packages python3-grpcio, python3-protobuf)`;
  if (!existsSync(PROTOC)) return `${PROTOC} not found (Debian package protobuf-compiler)`;
  if (!existsSync(GRPC_PYTHON_PLUGIN)) return `${GRPC_PYTHON_PLUGIN} not found (Debian package protobuf-compiler-grpc)`;
  return undefined;
}

function protoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? protoFiles(join(dir, entry.name)) : entry.name.endsWith('.proto') ? [join(dir, entry.name)] : [],
    )
    .sort();
}

/** Generates the Python messages and service stubs from proto/ with Debian's protoc. */
function generateStubs(outDir: string): void {
  const includes = ['-I', protoDir];
  // The well-known types come with libprotobuf-dev; without it, use the copy the npm protoc ships.
  if (!existsSync('/usr/include/google/protobuf/timestamp.proto')) includes.push('-I', join(repoRoot, 'node_modules', 'protoc', 'include'));
  const run = spawnSync(
    PROTOC,
    [
      ...includes,
      `--python_out=${outDir}`,
      `--grpc_python_out=${outDir}`,
      `--plugin=protoc-gen-grpc_python=${GRPC_PYTHON_PLUGIN}`,
      ...protoFiles(protoDir).map((file) => relative(protoDir, file)),
    ],
    { cwd: protoDir, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`protoc failed (${run.status}): ${run.stderr}`);
}

function runPython(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Asynchronous: the server answering the script runs in this process.
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', PYTHONDONTWRITEBYTECODE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const TOKENS = { ops: 'ops-python-token', bob: 'bob-python-token', carol: 'carol-python-token' };

/** A requester who also executes and audits, and two approvers: the script proves approvals count by distinct actor. */
const auth: AuthConfig = {
  tokens: [
    { sha256: sha256OfToken(TOKENS.ops), actor: { type: 'system', id: 'ops-bot' }, roles: ['requester', 'executor', 'auditor'] },
    { sha256: sha256OfToken(TOKENS.bob), actor: { type: 'human', id: 'bob' }, roles: ['approver'] },
    { sha256: sha256OfToken(TOKENS.carol), actor: { type: 'human', id: 'carol' }, roles: ['approver'] },
  ],
};

// CI installs the toolchain (.ci/run), so there a missing piece is a failure, not a skip.
const missing = process.env['CI'] ? undefined : missingToolchain();
if (missing !== undefined) console.warn(`polyglot test skipped: ${missing}`);

describe('a Python client generated from proto/ (Debian grpcio and protobuf)', () => {
  let server: TestServer | undefined;
  const stubs = tempDir('nexus-python-stubs-');
  afterAll(async () => {
    await server?.close();
    stubs.remove();
  });

  it.skipIf(missing !== undefined)(
    `runs a lifecycle with token-authenticated actors, verifies the audit package's binding digest itself, and resumes a watch from a checkpoint token${missing ? ` (skipped: ${missing})` : ''}`,
    async () => {
      generateStubs(stubs.path);
      expect(existsSync(join(stubs.path, 'nexus', 'control', 'v1', 'decisions_pb2_grpc.py'))).toBe(true);
      server = await startTestServer({ auth });

      const run = await runPython([
        script,
        '--server',
        server.server.address,
        '--stubs',
        stubs.path,
        '--requester-token',
        TOKENS.ops,
        '--approver-token',
        TOKENS.bob,
        '--approver-token',
        TOKENS.carol,
      ]);
      expect(run.stderr).toBe('');
      const result = JSON.parse(run.stdout) as Record<string, any>;
      expect(result['states']).toEqual([
        'DECISION_STATUS_PENDING_APPROVAL',
        'DECISION_STATUS_PENDING_APPROVAL',
        'DECISION_STATUS_APPROVED',
        'DECISION_STATUS_COMPLETED',
      ]);
      expect(result['approvers']).toEqual(['bob', 'carol']);
      expect(result['executor']).toBe('ops-bot');
      expect(result['error_probe']).toEqual({
        raised: true,
        grpc_status: 'FAILED_PRECONDITION',
        nexus_error_code: 'ALREADY_APPROVED',
        error_info_reason: 'ALREADY_APPROVED',
      });
      // Resumed from a checkpoint token after a disconnect: exactly the remaining events.
      const eventCount = result['event_count'] as number;
      expect(eventCount).toBeGreaterThan(3);
      expect(result['watch']).toMatchObject({
        first_seqs: [0, 1, 2],
        resumed_seqs: Array.from({ length: eventCount - 3 }, (_, i) => i + 3),
        generations: [0],
      });
      expect(result['watch']['caught_up']).toEqual(expect.any(String));
      for (const check of result['python_checks'] as Array<{ name: string; ok: boolean }>)
        expect(check, check.name).toMatchObject({ ok: true });
      expect(result['server_verification']['ok']).toBe(true);
      expect(result['ok']).toBe(true);
      expect(run.code).toBe(0);

      // What Python computed is what the server recorded.
      const exported = await server
        .client('anonymous', { token: TOKENS.ops })
        .exportAuditPackage({ decisionId: result['decision_id'] as string });
      expect(exported.bindingDigest).toBe(result['binding_digest']);
    },
    60_000,
  );
});
