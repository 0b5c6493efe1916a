import { describe, expect, it } from 'vitest';
import { exportBundle, importBundle } from '../src/bundle/index.js';
import { eventDigestFromPayloadJson } from '../src/events/newEvent.js';
import { canonicalJson } from '../src/json/canonicalJson.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../src/json/JsonValue.js';
import { createMemoryEventStore } from '../src/store/createMemoryEventStore.js';
import { ALICE, asJson, harness, makeDecision, reseal, storeState } from './bundleTestKit.js';

/** An approved (not executed) decision's bundle: request, policy, one approval. */
async function approvedBundle(): Promise<JsonObject> {
  const h = harness();
  const id = await makeDecision(h, { approvers: [ALICE], minApprovals: 1, execute: false });
  return asJson(await exportBundle(h.store, id, { clock: h.clock }));
}

/** What a forger who knows the format does: edit, recompute the event digests, reseal. */
function forge(bundle: JsonObject, edit: (events: JsonObject[], bundle: JsonObject) => void): JsonObject {
  const events = bundle['events'] as JsonObject[];
  edit(events, bundle);
  for (const event of events)
    event['digest'] = eventDigestFromPayloadJson(event['type'] as string, canonicalJson(event['payload'] as JsonValue));
  return reseal(bundle);
}

function payloadOf(events: JsonObject[], type: string): JsonObject {
  return events.find((e) => e['type'] === type)!['payload'] as JsonObject;
}

function withDecisionId(bundle: JsonObject, id: string): JsonObject {
  const old = (bundle['decision'] as JsonObject)['decision_id'] as string;
  const moved = JSON.parse(
    JSON.stringify(bundle).replaceAll(JSON.stringify(old).slice(1, -1), JSON.stringify(id).slice(1, -1)),
  ) as JsonObject;
  return reseal(moved);
}

const policyEdits: [string, (p: JsonObject) => void][] = [
  ['min_approvals null', (p) => void (p['min_approvals'] = null)],
  ['min_approvals -5', (p) => void (p['min_approvals'] = -5)],
  ['min_approvals 2.5', (p) => void (p['min_approvals'] = 2.5)],
  ['min_approvals 1.0 (a float)', (p) => void (p['min_approvals'] = new JsonFloat(1))],
  ['min_approvals "two"', (p) => void (p['min_approvals'] = 'two')],
  ['min_approvals 10^30', (p) => void (p['min_approvals'] = 10n ** 30n)],
  ['allowed_modes null', (p) => void (p['allowed_modes'] = null)],
  ['allowed_modes ["teleport"]', (p) => void (p['allowed_modes'] = ['teleport'])],
  ['allowed_modes with a duplicate', (p) => void (p['allowed_modes'] = ['dry_run', 'dry_run'])],
  ['max_steps -1', (p) => void (p['max_steps'] = -1)],
  ['labels as a string', (p) => void (p['labels'] = 'prod')],
  ['capabilities holding a number', (p) => void (p['require_adapter_capabilities'] = [7])],
  ['an unknown policy key', (p) => void (p['min_aprovals'] = 3)],
  [
    'none of the policy keys',
    (p) => {
      for (const key of Object.keys(p)) delete p[key];
    },
  ],
];

describe('import validates every event as the command that writes it', () => {
  for (const replayAfterImport of [true, false]) {
    for (const [name, edit] of policyEdits) {
      it(`refuses a POLICY_ATTACHED with ${name} (replay_after_import ${replayAfterImport}), writing nothing`, async () => {
        const bundle = forge(await approvedBundle(), (events) => edit(payloadOf(events, 'POLICY_ATTACHED')));
        const target = createMemoryEventStore();
        const before = await storeState(target);
        const result = await importBundle(target, canonicalJson(bundle), { replayAfterImport });
        expect(result.ok).toBe(false);
        if (!result.ok) expect(['BUNDLE_INVALID_SCHEMA', 'REPLAY_INVALID']).toContain(result.error_code);
        expect(await storeState(target)).toBe(before);
      });
    }
  }

  const otherEdits: [string, string, (events: JsonObject[], bundle: JsonObject) => void][] = [
    ['an actor with an empty id', 'BUNDLE_INVALID_SCHEMA', (events) => void ((events[2]!['actor'] as JsonObject)['id'] = '')],
    ['an actor id holding U+0000', 'BUNDLE_INVALID_SCHEMA', (events) => void ((events[2]!['actor'] as JsonObject)['id'] = 'al\u0000ice')],
    ['a goal of 12345', 'BUNDLE_INVALID_SCHEMA', (events) => void (payloadOf(events, 'DECISION_CREATED')['goal'] = 12345)],
    [
      'a goal beyond its limit',
      'BUNDLE_INVALID_SCHEMA',
      (events, bundle) => {
        const goal = 'g'.repeat(16 * 1024 + 1);
        payloadOf(events, 'DECISION_CREATED')['goal'] = goal;
        (bundle['decision'] as JsonObject)['goal'] = goal;
      },
    ],
    ['a comment that is a number', 'BUNDLE_INVALID_SCHEMA', (events) => void (payloadOf(events, 'APPROVAL_GRANTED')['comment'] = 5)],
    ['a timestamp that is no instant (not the last event)', 'BUNDLE_INVALID_SCHEMA', (events) => void (events[1]!['ts'] = 'yesterday')],
    ['a timestamp earlier than the event before it', 'REPLAY_INVALID', (events) => void (events[2]!['ts'] = '2001-01-01T00:00:00+00:00')],
    [
      'the policy attached a second time',
      'REPLAY_INVALID',
      (events, bundle) => {
        const again = JSON.parse(JSON.stringify(events[1])) as JsonObject;
        again['seq'] = 3;
        again['event_id'] = `evt_${(bundle['decision'] as JsonObject)['decision_id'] as string}_3`;
        events.push(again);
      },
    ],
    [
      'an approval by the control plane of an execution nobody requested',
      'REPLAY_INVALID',
      (events, bundle) => {
        const id = (bundle['decision'] as JsonObject)['decision_id'] as string;
        events.push({
          ...events[2]!,
          seq: 3,
          event_id: `evt_${id}_3`,
          type: 'EXECUTION_STARTED',
          actor: { type: 'system', id: 'nexus-control' },
          payload: { router_request_digest: 'a'.repeat(64) },
        });
      },
    ],
  ];
  for (const [name, code, edit] of otherEdits) {
    it(`refuses ${name} with ${code}, writing nothing`, async () => {
      const bundle = forge(await approvedBundle(), edit);
      const target = createMemoryEventStore();
      const before = await storeState(target);
      const result = await importBundle(target, canonicalJson(bundle), { replayAfterImport: false });
      expect(result).toMatchObject({ ok: false, error_code: code });
      expect(await storeState(target)).toBe(before);
    });
  }

  it('refuses two events swapped and renumbered', async () => {
    const h = harness();
    const id = await makeDecision(h, { approvers: [ALICE, { type: 'human', id: 'bob' }], minApprovals: 2, execute: false });
    const bundle = forge(asJson(await exportBundle(h.store, id, { clock: h.clock })), (events) => {
      const [a, b] = [events[2]!, events[3]!];
      events[2] = { ...b, seq: 2, event_id: a['event_id'] as string };
      events[3] = { ...a, seq: 3, event_id: b['event_id'] as string };
    });
    const result = await importBundle(createMemoryEventStore(), canonicalJson(bundle));
    expect(result).toMatchObject({ ok: false, error_code: 'REPLAY_INVALID' });
  });

  for (const [name, id] of [
    ['empty', ''],
    ['100,000 characters long', 'd'.repeat(100_000)],
    ['holding U+0000', 'dec_\u0000x'],
  ] as const) {
    it(`refuses a decision id that is ${name}`, async () => {
      const bundle = withDecisionId(await approvedBundle(), id);
      const target = createMemoryEventStore();
      const result = await importBundle(target, canonicalJson(bundle));
      expect(result).toMatchObject({ ok: false, error_code: 'BUNDLE_INVALID_SCHEMA' });
      if (!result.ok) expect(result.error.length).toBeLessThan(1_000);
      expect(await storeState(target)).toBe(await storeState(createMemoryEventStore()));
    });
  }

  it('still imports what commands wrote, free text stored exactly (U+0000 included)', async () => {
    const h = harness();
    const id = await makeDecision(h, { goal: 'keep \u0000 as written', plan: 'a\u0000b', approvers: [ALICE], minApprovals: 1 });
    const bundle = asJson(await exportBundle(h.store, id, { clock: h.clock }));
    const target = createMemoryEventStore();
    expect(await importBundle(target, canonicalJson(bundle))).toMatchObject({ ok: true });
    expect((await target.readEvents(id))[0]!.payload['goal']).toBe('keep \u0000 as written');
  });
});

describe('import keeps the reference implementation’s logs importable', () => {
  it('accepts a policy and an execution start written a moment after the event before them', async () => {
    const h = harness();
    const id = await makeDecision(h, { approvers: [ALICE], minApprovals: 1 });
    const bundle = asJson(await exportBundle(h.store, id, { clock: h.clock }));
    // The reference stamps each event as it writes it: later by some microseconds.
    const events = bundle['events'] as JsonObject[];
    const later = (ts: string, micros: number) => ts.replace('+00:00', `.${String(micros).padStart(6, '0')}+00:00`);
    events[1]!['ts'] = later(events[1]!['ts'] as string, 12);
    const started = events.findIndex((e) => e['type'] === 'EXECUTION_STARTED');
    events[started]!['ts'] = later(events[started]!['ts'] as string, 40);
    events[started + 1]!['ts'] = later(events[started + 1]!['ts'] as string, 90);
    const resealed = reseal(bundle);
    const result = await importBundle(createMemoryEventStore(), canonicalJson(resealed));
    expect(result).toMatchObject({ ok: true });
  });
});
