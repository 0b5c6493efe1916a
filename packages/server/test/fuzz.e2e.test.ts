import { Client, credentials, Metadata, status, type ServiceDefinition } from '@grpc/grpc-js';
import {
  ApprovalServiceService,
  AuditServiceService,
  BundleServiceService,
  DecisionServiceService,
  DiagnosticsServiceService,
  ExecutionServiceService,
  Mode,
  TemplateServiceService,
  ERROR_CODE_TRAILER,
} from '@nexus-control/client';
import { errorCodes, errorKindOf, type ErrorCode } from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_STATUS_BY_KIND } from '../src/errors/toServiceError.js';
import { rawUnary } from './helpers/rawCall.js';
import { castOf, startTestServer, type TestServer } from './helpers/testServer.js';

/*
 * A bounded fuzz run over every RPC: random bodies, and valid requests mutated at the byte
 * level or with a field set at (or just past) its limit. Seeded, so a failure reproduces with
 * FUZZ_SEED=<seed>; the seed is printed.
 */

const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const CALLS_PER_METHOD = Number(process.env['FUZZ_CALLS'] ?? 24);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;

/** Runtime statuses a call may end with that carry no domain code (proto/README.md "Errors"). */
const RUNTIME_STATUSES = new Set([status.RESOURCE_EXHAUSTED, status.UNIMPLEMENTED]);

/** String values at and just past the documented limits, and the awkward ones. */
const EDGE_STRINGS = [
  '',
  ' ',
  'x'.repeat(256),
  'x'.repeat(257),
  'g'.repeat(16 * 1024),
  'g'.repeat(16 * 1024 + 1),
  'p'.repeat(64 * 1024 + 1),
  'c'.repeat(4 * 1024 + 1),
  'a\u0000b',
  '\u0007bell',
  'é😀',
  '{"a":1,"a":2}',
  '['.repeat(200),
  'dec_does_not_exist',
];
const EDGE_NUMBERS = [0, -1, 1, 2, 1000, 1001, 2 ** 31 - 1, -(2 ** 31), 99];
/** Mostly the admin (every method is open to it), sometimes a requester, a stranger or nobody. */
const CALLERS: readonly (readonly [string, string][])[] = [
  [['authorization', 'Bearer root-token']],
  [['authorization', 'Bearer root-token']],
  [['authorization', 'Bearer root-token']],
  [['authorization', 'Bearer alice-token']],
  [['authorization', 'Bearer nobody-token']],
  [['authorization', 'Basic cm9vdA==']],
  [],
];

let t: TestServer;
let client: Client;
let decisionId: string;
let bundleJson: string;
let packageJson: string;

const SERVICES: readonly ServiceDefinition[] = [
  DecisionServiceService,
  ApprovalServiceService,
  ExecutionServiceService,
  TemplateServiceService,
  BundleServiceService,
  AuditServiceService,
  DiagnosticsServiceService,
] as unknown as ServiceDefinition[];

/** A valid request per method, as the generated client would write it. */
function templateFor(path: string): Record<string, unknown> {
  const name = path.slice(path.lastIndexOf('/') + 1);
  switch (name) {
    case 'CreateDecision':
      return { goal: 'fuzz goal', plan: 'a plan', mode: Mode.MODE_DRY_RUN, policy: { minApprovals: 1, labels: { values: ['fuzz'] } } };
    case 'Approve':
      return { decisionId, comment: 'ok' };
    case 'Revoke':
      return { decisionId, reason: 'changed my mind' };
    case 'Execute':
      return { decisionId, adapterId: 'null', mode: Mode.MODE_DRY_RUN };
    case 'CreateTemplate':
      return { name: `fuzz-${int(1e9)}`, description: 'd', policy: { minApprovals: 2 } };
    case 'GetTemplate':
      return { name: 'fuzz-template' };
    case 'ImportBundle':
      return { bundleJson, conflictMode: 2 };
    case 'VerifyAuditPackage':
      return { packageJson };
    case 'AttachAttestation':
      return { packageJson, attestationJson: '{"alg":"ed25519"}' };
    case 'ExportAuditPackage':
      return { decisionId, mode: 1 };
    case 'ListDecisions':
      return { pageSize: 5, label: 'fuzz' };
    case 'WatchDecisions':
      return { decisionId };
    case 'Echo':
      return { message: 'hello', payload: Buffer.from([1, 2, 3]) };
    default:
      return { decisionId };
  }
}

/** Sets one string or number somewhere in the request to an edge value. */
function atLimits(request: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(request);
  const slots: [Record<string, unknown>, string][] = [];
  const walk = (node: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'string' || typeof value === 'number') slots.push([node, key]);
      else if (Array.isArray(value)) value.forEach((_, i) => slots.push([value as unknown as Record<string, unknown>, String(i)]));
      else if (value && typeof value === 'object' && !Buffer.isBuffer(value)) walk(value as Record<string, unknown>);
    }
  };
  walk(copy);
  if (slots.length === 0) return copy;
  const [node, key] = pick(slots);
  node[key] = typeof node[key] === 'number' ? pick(EDGE_NUMBERS) : pick(EDGE_STRINGS);
  return copy;
}

function mutateBytes(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  switch (int(4)) {
    case 0:
      return out.subarray(0, int(out.length + 1));
    case 1:
      for (let i = 0; i < 1 + int(4) && out.length > 0; i++) out[int(out.length)] = int(256);
      return out;
    case 2:
      return Buffer.concat([out, Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256)))]);
    default: {
      // A string field holding invalid UTF-8 (field 1, as most requests have).
      const bad = Buffer.from([0x0a, 3, 0x61, 0xff, 0x62]);
      return Buffer.concat([bad, out]);
    }
  }
}

function randomBody(): Buffer {
  return Buffer.from(Array.from({ length: int(64) }, () => int(256)));
}

async function stateOf(): Promise<string> {
  const page = await t.nexus.listDecisions({ limit: 500 });
  const templates = await t.nexus.listTemplates();
  return JSON.stringify([page.items.map((d) => [d.decisionId, d.eventCount, d.status]), templates.map((x) => x.name)]);
}

function watchOnce(path: string, body: Buffer): Promise<{ code: status; domainCode: string | undefined }> {
  const metadata = new Metadata();
  metadata.set('authorization', 'Bearer root-token');
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(
      path,
      (v: Buffer) => v,
      (b: Buffer) => b,
      body,
      metadata,
      { deadline: Date.now() + 300 },
    );
    call.on('data', () => {});
    call.on('error', (error: { code: status; metadata?: Metadata }) => {
      const code = error.metadata?.get(ERROR_CODE_TRAILER)[0];
      resolve({ code: error.code, domainCode: typeof code === 'string' ? code : undefined });
    });
    call.on('end', () => resolve({ code: status.OK, domainCode: undefined }));
  });
}

beforeAll(async () => {
  t = await startTestServer();
  client = new Client(t.server.address, credentials.createInsecure());
  const { alice, bob, root, deployer } = castOf(t);
  const { decision } = await alice.createDecision({
    goal: 'the fuzz target',
    mode: Mode.MODE_DRY_RUN,
    policy: { labels: { values: ['fuzz'] } },
  });
  decisionId = decision!.decisionId;
  await bob.approve({ decisionId });
  await root.createTemplate({ name: 'fuzz-template', policy: {} });
  bundleJson = (await root.exportBundle({ decisionId })).bundleJson;
  const executed = (await alice.createDecision({ goal: 'an executed one', mode: Mode.MODE_DRY_RUN })).decision!.decisionId;
  await bob.approve({ decisionId: executed });
  await deployer.execute({ decisionId: executed, adapterId: 'null' });
  packageJson = (await root.exportAuditPackage({ decisionId: executed })).packageJson;
});
afterAll(async () => {
  client.close();
  await t.close();
});

describe(`fuzz over every RPC (seed ${SEED})`, () => {
  it('never crashes or hangs, answers every error with a domain code or a runtime status, never INTERNAL, and writes nothing when refusing', async () => {
    // The seed, for reproducing a failure: FUZZ_SEED=<seed> npx vitest run packages/server/test/fuzz.e2e.test.ts
    console.info(`fuzz seed ${SEED}`);
    const problems: string[] = [];
    let calls = 0;
    for (const service of SERVICES) {
      for (const method of Object.values(service)) {
        for (let i = 0; i < CALLS_PER_METHOD; i++) {
          const kind = pick(['random', 'bytes', 'limits', 'limits', 'valid'] as const);
          const template = templateFor(method.path);
          let body: Buffer;
          if (kind === 'random') body = randomBody();
          else {
            const request = kind === 'valid' ? template : atLimits(template);
            let encoded: Buffer;
            try {
              encoded = method.requestSerialize(request) as Buffer;
            } catch {
              continue; // Not encodable by the generated code: nothing a client could send this way.
            }
            body = kind === 'bytes' ? mutateBytes(encoded) : encoded;
          }
          const before = await stateOf();
          const logged = t.logs.length;
          calls++;
          const where = `${method.path} #${i} (${kind}, seed ${SEED})`;
          const result = method.responseStream
            ? await watchOnce(method.path, body)
            : await rawUnary(client, method.path, body, pick(CALLERS), 15_000);
          if (result.code === status.DEADLINE_EXCEEDED && !method.responseStream) problems.push(`${where}: hung until its deadline`);
          if (result.code === status.INTERNAL) problems.push(`${where}: INTERNAL`);
          if (result.code !== status.OK && result.code !== status.DEADLINE_EXCEEDED && result.code !== status.CANCELLED) {
            const domain = result.domainCode;
            if (domain === undefined) {
              if (!RUNTIME_STATUSES.has(result.code)) problems.push(`${where}: ${status[result.code]} without a domain code`);
            } else if (!Object.hasOwn(errorCodes, domain)) {
              problems.push(`${where}: unknown domain code ${domain}`);
            } else if (GRPC_STATUS_BY_KIND[errorKindOf(domain as ErrorCode)] !== result.code) {
              problems.push(`${where}: ${domain} sent as ${status[result.code]}`);
            }
            if ((await stateOf()) !== before)
              problems.push(`${where}: refused with ${domain ?? status[result.code]}, yet something was written`);
          }
          if (!method.responseStream && result.code !== status.RESOURCE_EXHAUSTED) {
            const line = t.logs.slice(logged).find((entry) => method.path.endsWith(String(entry['method'])));
            if (line && line['status'] !== status[result.code])
              problems.push(`${where}: logged ${String(line['status'])}, client got ${status[result.code]}`);
          }
        }
      }
    }
    expect(calls).toBeGreaterThan(SERVICES.length * 10);
    expect(problems).toEqual([]);
    // Still serving.
    expect((await castOf(t).alice.echo({ message: 'alive' })).message).toBe('alive');
  }, 120_000);
});
