import {
  canonicalJson,
  digestOf,
  FEED_START,
  eventDigestFromPayloadJson,
  JsonFloat,
  newEvent,
  type Actor,
  type JsonObject,
  type StoredEvent,
  type TemplateRecord,
} from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './conformanceContext.js';
import { expectNexusError } from './expectNexusError.js';
import { approvalEvent, approveRequest, createdEvents, createRequest, fixtureTs, HOSTILE_STRINGS, megabyteString } from './fixtures.js';
import { written } from './written.js';

function template(name: string, snapshot: JsonObject, createdBy: Actor = { type: 'human', id: 'admin' }): TemplateRecord {
  return { name, snapshot, digest: digestOf(snapshot), createdAt: fixtureTs(5), createdBy };
}

/** Values whose JSON identity a careless store loses: integral floats, -0.0, 2^64, nesting. */
function numericPayload(): JsonObject {
  return {
    expires_at: null,
    float_one: new JsonFloat(1),
    negative_zero: new JsonFloat(-0),
    big_float: new JsonFloat(1e300),
    tenth: 0.1,
    small: 1.5e-7,
    int: 42,
    negative_int: -7,
    big: 2n ** 64n,
    negative_big: -(2n ** 70n),
    nested: { deeper: { list: [1, new JsonFloat(2), [null, true, false], {}, 2n ** 63n, 0.5] }, empty: {}, empty_list: [] },
  };
}

export function describeContentConformance(ctx: ConformanceContext): void {
  describe('templates', () => {
    it('created templates are read back by name and listed in code point order of their names', async () => {
      const store = await ctx.newStore();
      const records = ['zeta', 'alpha', 'Mid', 'alpha-2', 'émoji😀'].map((name) =>
        template(name, { min_approvals: 2, allowed_modes: ['dry_run'], description: `about ${name}` }),
      );
      for (const record of records) await store.createTemplate(record);
      expect(await store.getTemplate('alpha')).toEqual(records[1]);
      expect(await store.getTemplate('missing')).toBeUndefined();
      expect((await store.listTemplates()).map((t) => t.name)).toEqual(['Mid', 'alpha', 'alpha-2', 'zeta', 'émoji😀']);
      expect(await store.listTemplates()).toEqual([records[2], records[1], records[3], records[0], records[4]]);
    });

    it('a duplicate name fails with TEMPLATE_EXISTS and leaves the original unchanged', async () => {
      const store = await ctx.newStore();
      const original = template('prod', { min_approvals: 2 });
      await store.createTemplate(original);
      await expectNexusError(
        store.createTemplate(template('prod', { min_approvals: 5 }, { type: 'human', id: 'other' })),
        'TEMPLATE_EXISTS',
      );
      expect(await store.getTemplate('prod')).toEqual(original);
      expect(await store.listTemplates()).toEqual([original]);
    });

    it('a snapshot round-trips exactly, nested objects, integral floats and big integers included', async () => {
      const store = await ctx.newStore();
      const snapshot = { policy: numericPayload(), labels: ['a', 'b'], description: 'x\u0000"y' };
      await store.createTemplate(template('t', snapshot));
      const read = (await store.getTemplate('t')) as TemplateRecord;
      expect(canonicalJson(read.snapshot)).toBe(canonicalJson(snapshot));
      expect(digestOf(read.snapshot)).toBe(digestOf(snapshot));
      expect(read.digest).toBe(digestOf(snapshot));
      const policy = read.snapshot.policy as JsonObject;
      expect(policy.float_one).toBeInstanceOf(JsonFloat);
      expect(policy.big).toBe(2n ** 64n);
      expect(policy.int).toBe(42);
    });
  });

  describe('router results', () => {
    it('an append carrying a router result makes it retrievable by decision and run id', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      await store.append(createRequest('d2'));
      const responseJson = canonicalJson({
        run_id: 'run-1',
        status: 'ok',
        steps_executed: 3,
        output: { big: 2n ** 64n, f: new JsonFloat(1) },
      });
      await store.append({
        decisionId: 'd1',
        expectedVersion: { generation: 0, length: 2 },
        events: [
          newEvent(
            'EXECUTION_COMPLETED',
            { run_id: 'run-1', response_digest: digestOf({ x: 1 }), steps_executed: 3 },
            { type: 'system', id: 'nexus-control' },
            fixtureTs(9),
          ),
        ],
        status: 'completed',
        routerResult: { runId: 'run-1', responseJson },
      });
      expect(await store.getRouterResult('d1', 'run-1')).toEqual({ runId: 'run-1', responseJson });
      expect(await store.getRouterResult('d1', 'run-2')).toBeUndefined();
      expect(await store.getRouterResult('d2', 'run-1')).toBeUndefined();
      expect(await store.getRouterResult('unknown', 'run-1')).toBeUndefined();
    });
  });

  describe('hostile content', () => {
    it('hostile decision ids, actor ids, goals, labels and payload strings are stored and read back exactly', async () => {
      const store = await ctx.newStore();
      for (const [i, text] of HOSTILE_STRINGS.entries()) {
        const requester: Actor = { type: 'human', id: text };
        const request = createRequest(text, { goal: text, plan: text, labels: [text, 'common'], requester, ts: fixtureTs(i) });
        await store.append(request);
        const approval = approvalEvent(text, { comment: text, ts: fixtureTs(i) });
        await store.append({ ...approveRequest(text, 2, text), events: [approval] });

        const stored = await store.readEvents(text);
        expect(stored.map(written)).toEqual([...request.events, approval].map(written));
        expect(stored.every((e) => e.decisionId === text)).toBe(true);
        expect(await store.getDecision(text)).toEqual({
          ...createdEvents(text, { goal: text, labels: [text, 'common'], ts: fixtureTs(i) }).header,
          status: 'approved',
          eventCount: 3,
          generation: 0,
          updatedAt: fixtureTs(i),
        });
        expect((await store.readFeed({ decisionId: text })).events).toEqual(stored);
      }
      const listed = (await store.listDecisions({ limit: HOSTILE_STRINGS.length + 10 })).items;
      expect(listed.map((d) => d.decisionId)).toEqual([...HOSTILE_STRINGS].reverse());
      expect(await store.getDecision('')).toBeUndefined();
      expect(await store.readEvents("' OR '1'='1")).toEqual([]);
    });

    it('a label filter matches hostile labels exactly, never as a pattern', async () => {
      const store = await ctx.newStore();
      for (const [i, text] of HOSTILE_STRINGS.entries()) {
        await store.append(createRequest(`d${i}`, { labels: [text], ts: fixtureTs(i) }));
      }
      await store.append(createRequest('plain', { labels: ['abc', 'a.b.c', 'a%b_c*?[x]y'] }));
      for (const [i, text] of HOSTILE_STRINGS.entries()) {
        const items = (await store.listDecisions({ label: text })).items;
        expect(
          items.map((d) => d.decisionId),
          JSON.stringify(text),
        ).toEqual([`d${i}`]);
      }
      for (const label of ['ab', 'a', 'bc', 'a.b.', '"abc"', 'ABC']) {
        expect((await store.listDecisions({ label })).items, label).toEqual([]);
      }
    });

    it('hostile idempotency keys, run ids and template names are kept apart and read back exactly', async () => {
      const store = await ctx.newStore();
      for (const [i, text] of HOSTILE_STRINGS.entries()) {
        await store.append(createRequest(`d${i}`, { idempotency: { key: text, fingerprint: text } }));
        const responseJson = canonicalJson({ run_id: text });
        await store.append({ ...approveRequest(`d${i}`, 2, 'a'), routerResult: { runId: text, responseJson } });
        await store.createTemplate(template(text, { name: text }));
      }
      for (const [i, text] of HOSTILE_STRINGS.entries()) {
        expect(await store.getIdempotency(text)).toEqual({ key: text, fingerprint: text, decisionId: `d${i}`, generation: 0, seq: 0 });
        expect(await store.getRouterResult(`d${i}`, text)).toEqual({ runId: text, responseJson: canonicalJson({ run_id: text }) });
        expect(await store.getTemplate(text)).toEqual(template(text, { name: text }));
      }
      expect((await store.listTemplates()).length).toBe(HOSTILE_STRINGS.length);
    });

    it('a payload string of 1 MiB is stored and read back exactly', async () => {
      const store = await ctx.newStore();
      const huge = megabyteString();
      await store.append(createRequest('d1'));
      const approval = approvalEvent('a', { comment: huge });
      await store.append({ ...approveRequest('d1', 2, 'a'), events: [approval] });
      const [stored] = await store.readEvents('d1', { fromSeq: 2 });
      expect(stored?.payload.comment === huge).toBe(true);
      expect(stored?.payloadJson === approval.payloadJson).toBe(true);
      expect(stored?.digest).toBe(approval.digest);
    });

    it('payload keys that look like operators, paths or prototype names stay plain keys', async () => {
      const store = await ctx.newStore();
      const payload = JSON.parse(
        '{"expires_at":null,"$where":"sleep(1000)","$gt":"","a.b":{"c.d":1},"__proto__":{"polluted":true},"constructor":"x","":"empty key","\\u0000":"nul key"}',
      ) as JsonObject;
      const event = newEvent('APPROVAL_GRANTED', payload, { type: 'human', id: 'a' }, fixtureTs(3));
      await store.append(createRequest('d1'));
      await store.append({ ...approveRequest('d1', 2, 'a'), events: [event] });
      const [stored] = (await store.readEvents('d1', { fromSeq: 2 })) as [StoredEvent];
      expect(canonicalJson(stored.payload)).toBe(event.payloadJson);
      expect(Object.keys(stored.payload).sort()).toEqual(Object.keys(payload).sort());
      expect(Object.prototype.hasOwnProperty.call(stored.payload, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(stored.digest).toBe(event.digest);
    });
  });

  describe('JSON identity of payloads', () => {
    it('integral floats, 0.1, 2^64 and nested values read back with identical canonical JSON and digest', async () => {
      const store = await ctx.newStore();
      const payload = numericPayload();
      const event = newEvent('APPROVAL_GRANTED', payload, { type: 'human', id: 'a' }, fixtureTs(3));
      await store.append(createRequest('d1'));
      await store.append({ ...approveRequest('d1', 2, 'a'), events: [event] });
      for (const stored of [
        ((await store.readEvents('d1', { fromSeq: 2 })) as [StoredEvent])[0],
        (await store.readFeed({ decisionId: 'd1', after: FEED_START })).events[2] as StoredEvent,
      ]) {
        expect(stored.payloadJson).toBe(event.payloadJson);
        expect(canonicalJson(stored.payload)).toBe(canonicalJson(payload));
        expect(eventDigestFromPayloadJson(stored.type, canonicalJson(stored.payload))).toBe(event.digest);
        expect(stored.digest).toBe(event.digest);
        const p = stored.payload;
        expect(p.float_one).toBeInstanceOf(JsonFloat);
        expect(Object.is((p.negative_zero as JsonFloat).valueOf(), -0)).toBe(true);
        expect(p.big_float).toBeInstanceOf(JsonFloat);
        expect(p.tenth).toBe(0.1);
        expect(p.int).toBe(42);
        expect(p.big).toBe(2n ** 64n);
        expect(p.negative_big).toBe(-(2n ** 70n));
        expect(p.nested).toEqual(payload.nested);
      }
    });
  });
}
