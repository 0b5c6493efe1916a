import { describe, expect, it } from 'vitest';
import { buildBundle, bundleDigest, exportBundle, routerLinkDigest } from '../src/bundle/index.js';
import { canonicalBundleDigest, canonicalizeBundle } from '../src/bundle/canonicalBundle.js';
import { bindingDigest } from '../src/audit/index.js';
import { eventDigestFromPayloadJson, newEvent } from '../src/events/newEvent.js';
import { canonicalJson } from '../src/json/canonicalJson.js';
import { digestOf, sha256Hex, unprefixDigest } from '../src/json/digest.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../src/json/JsonValue.js';
import { parseJson } from '../src/json/parseJson.js';
import { createRouter } from '../src/router/createRouter.js';
import { createNullAdapter } from '../src/router/createNullAdapter.js';
import { createNexusControl } from '../src/domain/createNexusControl.js';
import { createMemoryEventStore } from '../src/store/createMemoryEventStore.js';
import { fixedClock } from '../src/time/Clock.js';
import { ALICE, asJson, BOB, harness, LOSSY_RESPONSE_EXTRAS, makeDecision, REQUESTER, T0 } from './bundleTestKit.js';

const HOUR = 3_600_000_000;

describe('SPEC §4 vectors (the reference digests)', () => {
  const vectors: [string, JsonValue, string][] = [
    ['{}', {}, '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'],
    ['{"b":1,"a":"é"}', { b: 1, a: 'é' }, 'aa58fba8483623bed37c1b02edfccbdd9a53123837c20bfa4cb4049993a2872e'],
    ['{"x":1}', { x: 1 }, '5041bf1f713df204784353e82f6a4a535931cb64f1f4b4a5aeaffcb720918b22'],
    ['{"x":1.0}', { x: new JsonFloat(1) }, 'bf32f56236899e13ef54db875d136c6cbcc65244464829c54911aa9069b0ae25'],
  ];
  it.each(vectors)('digest of %s', (_label, value, digest) => {
    expect(digestOf(value)).toBe(digest);
  });

  const eventVectors: [string, JsonObject, string][] = [
    [
      'DECISION_CREATED',
      { goal: 'g', plan: null, requested_mode: 'dry_run', labels: [] },
      'ea08c8db72786a95e11ea83e80e8c4a6bbcdd2219ffd7278e74f80dc8e1b8efa',
    ],
    [
      'POLICY_ATTACHED',
      { min_approvals: 1, allowed_modes: ['dry_run'], require_adapter_capabilities: [], max_steps: null, labels: [] },
      '1312919df176092df6e67c38dd09284aa998e644c8d095fdae9967a0a6299a72',
    ],
    ['APPROVAL_GRANTED', { expires_at: null }, '79b78629bf4dee55065517c950fe627418e05dd0bbee2603b6e008838c3ce759'],
    ['EXECUTION_REQUESTED', { adapter_id: 'ad', dry_run: true }, '14aec977c77b783b3f37b16f6d61258ab24d99558daca26e32a36eb18e394b03'],
  ];
  it.each(eventVectors)('event digest of %s, and the bundle built from such events carries it', (type, payload, digest) => {
    expect(eventDigestFromPayloadJson(type, canonicalJson(payload))).toBe(digest);
    const { payloadJsons } = canonicalizeBundle({ events: [{ type, payload }] });
    expect(eventDigestFromPayloadJson(type, payloadJsons[0] as string)).toBe(digest);
  });

  it('binding digest for version "0.6" and the digests aaa / bbb / ccc', () => {
    expect(bindingDigest('0.6', 'sha256:aaa', 'sha256:bbb', 'sha256:ccc')).toBe(
      'b9b80da7429447c915a40ddaaefe963edfe3951adcb5ae2631d243faa0d3d901',
    );
  });

  it('a decision built from the vector events exports those very event digests', () => {
    const ts = '2025-01-01T00:00:00+00:00';
    const events = eventVectors.map(([type, payload], seq) => ({ ...newEvent(type as 'DECISION_CREATED', payload, REQUESTER, ts), seq }));
    const bundle = buildBundle('dec_vectors', events, ts);
    expect(bundle.events.map((e) => e.digest)).toEqual(eventVectors.map(([, , digest]) => digest));
  });
});

describe('exportBundle', () => {
  it('writes every SPEC §5 field of an executed decision', async () => {
    const h = harness();
    const id = await makeDecision(h, { approvers: [ALICE, BOB], minApprovals: 2 });
    h.clock.set('2025-03-02T08:30:00.250000+00:00');
    const bundle = await exportBundle(h.store, id, { clock: h.clock });
    const stored = await h.store.readEvents(id);

    expect(Object.keys(bundle)).toEqual([
      'bundle_version',
      'decision',
      'events',
      'template_snapshot',
      'router_link',
      'integrity',
      'provenance',
      'meta',
    ]);
    expect(bundle.bundle_version).toBe('0.5');
    expect(bundle.decision).toEqual({
      decision_id: id,
      goal: 'rotate the signing keys',
      mode: 'dry_run',
      created_at: T0,
      status: 'COMPLETED',
    });
    expect(bundle.events).toHaveLength(stored.length);
    bundle.events.forEach((event, i) => {
      const s = stored[i]!;
      expect(event).toEqual({
        event_id: `evt_${id}_${i}`,
        decision_id: id,
        seq: i,
        type: s.type,
        payload: s.payload,
        ts: s.ts,
        actor: { type: s.actor.type, id: s.actor.id },
        digest: s.digest,
      });
    });
    expect(bundle.template_snapshot).toEqual({ present: false });

    const started = stored.find((e) => e.type === 'EXECUTION_STARTED')!.payload;
    const completed = stored.find((e) => e.type === 'EXECUTION_COMPLETED')!.payload;
    const requestDigest = started['router_request_digest'] as string;
    const resultDigest = completed['response_digest'] as string;
    const runId = completed['run_id'] as string;
    const link = sha256Hex(
      canonicalJson({ decision_id: id, run_id: runId, router_request_digest: requestDigest, router_result_digest: resultDigest }),
    );
    expect(routerLinkDigest(id, runId, requestDigest, resultDigest)).toBe(link);
    expect(bundle.router_link).toEqual({
      run_id: runId,
      adapter_id: 'null',
      router_request_digest: `sha256:${requestDigest}`,
      router_result_digest: `sha256:${resultDigest}`,
      control_router_link_digest: `sha256:${link}`,
    });

    const content = {
      bundle_version: bundle.bundle_version,
      decision: bundle.decision,
      events: bundle.events,
      template_snapshot: bundle.template_snapshot,
      router_link: bundle.router_link,
    };
    const digest = sha256Hex(canonicalJson(asJson(content)));
    expect(bundle.integrity).toEqual({ alg: 'sha256', canonical_digest: `sha256:${digest}` });
    expect(bundleDigest(bundle)).toBe(digest);
    expect(bundle.provenance).toEqual({
      records: [
        {
          prov_id: `prov_${sha256Hex(`${id}:${digest}`).slice(0, 12)}`,
          method_id: 'nexus-control.export_v0_5',
          inputs: [`decision:${id}`],
          outputs: [`bundle:sha256:${digest}`],
        },
      ],
    });
    expect(bundle.meta).toEqual({ exported_at: '2025-03-02T08:30:00.250000+00:00' });
  });

  it('the same stored events give the same canonical digest whatever the export instant', async () => {
    const h = harness();
    const id = await makeDecision(h);
    const first = await exportBundle(h.store, id, { clock: h.clock });
    h.clock.advance(400 * 24 * HOUR);
    const second = await exportBundle(h.store, id, { clock: h.clock });
    expect(second.meta.exported_at).not.toBe(first.meta.exported_at);
    expect(second.integrity).toEqual(first.integrity);
    expect(second.provenance).toEqual(first.provenance);
    expect(canonicalJson(asJson({ ...second, meta: null }))).toBe(canonicalJson(asJson({ ...first, meta: null })));
  });

  it('evaluates approvals at the last event, so an approval expiring later keeps an old log APPROVED', async () => {
    const h = harness();
    const view = await h.control.request({ goal: 'pay the invoice', mode: 'dry_run' }, { actor: REQUESTER });
    h.clock.advance(1_000_000);
    await h.control.approve(view.decisionId, { expiresAt: '2025-03-01T13:00:00+00:00' }, { actor: ALICE });
    const before = await exportBundle(h.store, view.decisionId, { clock: h.clock });
    h.clock.set('2026-01-01T00:00:00+00:00');
    const after = await exportBundle(h.store, view.decisionId, { clock: h.clock });
    expect(before.decision.status).toBe('APPROVED');
    expect(after.decision.status).toBe('APPROVED');
    expect(after.integrity.canonical_digest).toBe(before.integrity.canonical_digest);
  });

  it('an undecided decision has an empty router_link and the pending status', async () => {
    const h = harness();
    const id = await makeDecision(h, { approvers: [], execute: false });
    const bundle = await exportBundle(h.store, id, { clock: h.clock });
    expect(bundle.router_link).toEqual({});
    expect(bundle.decision.status).toBe('PENDING_APPROVAL');
  });

  it('a decision from a template carries the template snapshot, its digest prefixed, empty overrides as null', async () => {
    const h = harness();
    const template = await h.control.createTemplate(
      { name: 'prod-deploy', description: 'two people', policy: { minApprovals: 1, allowedModes: ['dry_run', 'apply'], labels: ['prod'] } },
      { actor: REQUESTER },
    );
    const id = await makeDecision(h, { templateName: 'prod-deploy' });
    const bundle = await exportBundle(h.store, id, { clock: h.clock });
    expect(bundle.template_snapshot).toEqual({
      present: true,
      name: 'prod-deploy',
      digest: `sha256:${template.digest}`,
      snapshot: template.snapshot,
      overrides: null,
    });
  });

  it('a run that failed without a run id links adapter and request digest only', async () => {
    const store = createMemoryEventStore();
    const clock = fixedClock(T0);
    const broken = { id: 'broken', capabilities: ['dry_run'], run: async () => Promise.reject(new Error('unreachable')) };
    const control = createNexusControl({ store, clock, router: createRouter([createNullAdapter(), broken]) });
    const view = await control.request({ goal: 'g', mode: 'dry_run' }, { actor: REQUESTER });
    await control.approve(view.decisionId, {}, { actor: ALICE });
    await control.execute(view.decisionId, { adapterId: 'broken' }, { actor: REQUESTER });
    const bundle = await exportBundle(store, view.decisionId, { clock });
    expect(bundle.decision.status).toBe('FAILED');
    expect(Object.keys(bundle.router_link).sort()).toEqual(['adapter_id', 'router_request_digest']);
    expect(bundle.router_link.adapter_id).toBe('broken');
  });

  it('fails DECISION_NOT_FOUND for an unknown decision', async () => {
    const h = harness();
    await expect(exportBundle(h.store, 'dec_missing', { clock: h.clock })).rejects.toMatchObject({ code: 'DECISION_NOT_FOUND' });
  });
});

describe('canonical bundle text', () => {
  /** The straightforward definition: canonical JSON of the reference projection. */
  function slowDigest(bundle: JsonObject): string {
    const events = (bundle['events'] as JsonObject[]).map((e) => ({
      event_id: e['event_id'] ?? null,
      decision_id: e['decision_id'] ?? null,
      seq: e['seq'] ?? null,
      type: e['type'] ?? null,
      payload: e['payload'] ?? {},
      ts: e['ts'] ?? null,
      actor: e['actor'] ?? {},
      digest: e['digest'] ?? '',
    }));
    const decision = bundle['decision'] as JsonObject;
    return sha256Hex(
      canonicalJson({
        bundle_version: bundle['bundle_version'] ?? '0.5',
        decision: {
          decision_id: decision['decision_id'] ?? null,
          goal: decision['goal'] ?? null,
          mode: decision['mode'] ?? 'dry_run',
          created_at: decision['created_at'] ?? null,
          status: decision['status'] ?? null,
        },
        events,
        template_snapshot: { present: false },
        router_link: {},
      }),
    );
  }

  // Values the native serializer would write differently from canonical JSON, or in another order.
  const awkward: JsonValue[] = [
    { b: 1, a: 2 },
    { '10': 'x', '9': 'y', a: 'z' },
    { z: [new JsonFloat(1), 1e-7, new JsonFloat(1e16), 2.5, -0.0001] },
    { n: 12345678901234567890n, m: -9007199254740993n, f: new JsonFloat(-0) },
    { nested: { y: { b: null, a: true }, x: [] } },
    { s: 'é😀 \u2028 \u007f / "quoted" \\ back \n\t\u0001' },
    { '\u{10000}': 'astral key', '\uE000': 'private use key', a: 1 },
    { literal: '\\ud800 is only text' },
    { a: ['x', 1, null, false] },
    {},
  ];

  it('writes exactly what canonical JSON of the reference projection writes, for payloads of every kind', () => {
    const events: JsonObject[] = awkward.map((payload, seq) => ({
      type: 'APPROVAL_GRANTED',
      ts: T0,
      seq,
      // Reference key order, not canonical order.
      actor: { type: 'human', id: `actor-${seq}` },
      payload,
      event_id: `evt_d_${seq}`,
      decision_id: 'd',
      digest: 'ab'.repeat(32),
    }));
    const bundle: JsonObject = {
      bundle_version: '0.5',
      decision: { decision_id: 'd', goal: 'g', mode: 'apply', created_at: T0, status: 'DRAFT' },
      events,
    };
    const canonical = canonicalizeBundle(bundle);
    expect(canonicalBundleDigest(canonical)).toBe(slowDigest(bundle));
    canonical.payloadJsons.forEach((text, i) => expect(text).toBe(canonicalJson(awkward[i]!)));
  });

  it('each awkward payload alone, and events missing optional keys, digest like the projection', () => {
    for (const payload of awkward) {
      const bundle: JsonObject = {
        decision: { decision_id: 'd', created_at: T0, status: 'DRAFT' },
        events: [{ seq: 0, type: 'X', ts: T0, event_id: 'e', decision_id: 'd', payload }],
      };
      expect(canonicalBundleDigest(canonicalizeBundle(bundle))).toBe(slowDigest(bundle));
    }
  });

  it('events with unusual fields (extra actor keys, a float seq, a numeric ts) digest like the projection', () => {
    const simple = {
      seq: 0,
      type: 'X',
      ts: T0,
      event_id: 'e',
      decision_id: 'd',
      actor: { type: 'human', id: 'a' },
      payload: { b: 1 },
      digest: '',
    };
    for (const odd of [
      { actor: { type: 'human', id: 'a', team: 'ops' } },
      { seq: new JsonFloat(1) },
      { ts: 1700000000 },
      { event_id: 12345678901234567890n },
      { payload: { nested: { b: [new JsonFloat(2)], a: null } } },
    ]) {
      const bundle: JsonObject = {
        decision: { decision_id: 'd', created_at: T0, status: 'DRAFT' },
        events: [simple, { ...simple, ...odd }, { ...simple, payload: { z: 'é', a: 'x' } }],
      };
      const canonical = canonicalizeBundle(bundle);
      expect(canonicalBundleDigest(canonical)).toBe(slowDigest(bundle));
      expect(canonical.payloadJsons).toEqual((bundle['events'] as JsonObject[]).map((e) => canonicalJson(e['payload'] as JsonValue)));
    }
  });

  it('rejects a lone surrogate anywhere in an event rather than escaping it', () => {
    const events: JsonObject[] = [
      { seq: 0, ts: 'bad \uD800' },
      { seq: 0, actor: { type: 'human', id: '\uDC00' } },
      { seq: 0, payload: { comment: 'x\uD83D' } },
    ];
    for (const event of events) {
      expect(() => canonicalizeBundle({ events: [event] })).toThrow(expect.objectContaining({ code: 'CANONICAL_JSON_INVALID' }));
    }
  });

  it('keeps floats and integers beyond 2^53 exactly through a JSON text round trip', async () => {
    const h = harness();
    const id = await makeDecision(h, { adapterId: 'lossy' });
    const bundle = await exportBundle(h.store, id, { clock: h.clock });
    const text = canonicalJson(asJson(bundle));
    const reparsed = parseJson(text) as JsonObject;
    expect(bundleDigest(reparsed)).toBe(unprefixDigest(bundle.integrity.canonical_digest));
    const stored = await h.store.getRouterResult(id, bundle.router_link.run_id!);
    expect(stored?.responseJson).toContain('"ratio":1.0');
    expect(stored?.responseJson).toContain('"tiny":1e-07');
    expect(stored?.responseJson).toContain('"huge":1e+16');
    expect(stored?.responseJson).toContain('"big_count":9007199254740993');
    expect(sha256Hex(stored!.responseJson)).toBe(unprefixDigest(bundle.router_link.router_result_digest!));
    expect(canonicalJson(LOSSY_RESPONSE_EXTRAS)).toContain('"values":[-0.0,0.5,12345678901234567890]');
  });
});

describe('event digest inputs written in one serialization', () => {
  it('stay exact when a payload holds the text that separates two inputs', () => {
    const tricky: JsonObject[] = [
      { comment: '},{"event_type":"APPROVAL_GRANTED","payload":{' },
      { reason: '"}]},{"event_type":' },
      { event_type: 'not the event type', payload: { nested: true } },
      { expires_at: null },
    ];
    const events: JsonObject[] = tricky.map((payload, seq) => ({
      seq,
      type: seq % 2 === 0 ? 'APPROVAL_GRANTED' : 'APPROVAL_REVOKED',
      ts: T0,
      actor: { type: 'human', id: `a${seq}` },
      payload,
      event_id: `evt_d_${seq}`,
      decision_id: 'd',
      digest: '',
    }));
    const bundle: JsonObject = { decision: { decision_id: 'd', created_at: T0, status: 'DRAFT' }, events };
    const canonical = canonicalizeBundle(bundle);
    // Flat payloads take the one-serialization path (a nested one may not), or this test proves nothing.
    const written = events.map((_, i) => canonical.digestInputs[i] !== undefined);
    expect(written).toEqual([true, true, written[2], true]);
    events.forEach((event, i) => {
      const expected = `{"event_type":${JSON.stringify(event['type'])},"payload":${canonicalJson(tricky[i]!)}}`;
      if (written[i]) expect(canonical.digestInputs[i]).toBe(expected);
      expect(canonical.payloadJsons[i]).toBe(canonicalJson(tricky[i]!));
    });
  });
});
