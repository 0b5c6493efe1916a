import type { DecisionView } from '../domain/NexusControlApi.js';
import { replayDecision } from '../domain/replay.js';
import type { ReplayableEvent } from '../domain/decisionFold.js';
import { DECISION_EVENT_TYPES, eventId } from '../events/DecisionEvent.js';
import { eventDigestFromPayloadJson } from '../events/newEvent.js';
import { canonicalJson } from '../json/canonicalJson.js';
import { isPrefixedDigest, isRawDigest, prefixDigest, sha256Hex, unprefixDigest } from '../json/digest.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json/JsonValue.js';
import {
  canonicalBundleDigest,
  canonicalizeBundle,
  canonicalPayloadText,
  normalizeDecision,
  normalizeRouterLink,
  normalizeTemplateSnapshot,
} from './canonicalBundle.js';
import { show, type CheckList } from './checkList.js';
import { deriveSections } from './deriveSections.js';
import { provenanceRecord, routerLinkDigest } from './digests.js';
import { BUNDLE_EXPORT_METHOD_ID, BUNDLE_VERSION } from './types.js';

const STATUSES = new Set(['DRAFT', 'PENDING_APPROVAL', 'APPROVED', 'EXECUTING', 'COMPLETED', 'FAILED']);
const EVENT_TYPES = new Set<string>(DECISION_EVENT_TYPES);
/** Structural problems collected before the schema check stops looking. */
const MAX_EVENT_PROBLEMS = 100;
/** Failing items listed in a check's detail before "…and N more". */
const LIST_LIMIT = 5;

function listed(items: readonly string[]): string {
  const head = items.slice(0, LIST_LIMIT).join('; ');
  return items.length > LIST_LIMIT ? `${head}; …and ${items.length - LIST_LIMIT} more` : head;
}

function objectAt(value: JsonValue | undefined): JsonObject {
  return isJsonObject(value) ? value : {};
}

/** `eventId === prefix + seq`, compared without building the string (thousands of events). */
function isEventIdOf(eventIdValue: JsonValue | undefined, prefix: string, seq: JsonValue | undefined): boolean {
  if (typeof eventIdValue !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return false;
  if (!eventIdValue.startsWith(prefix)) return false;
  let rest = seq;
  let at = eventIdValue.length - 1;
  do {
    if (at < prefix.length || eventIdValue.charCodeAt(at) !== 0x30 + (rest % 10)) return false;
    rest = Math.floor(rest / 10);
    at--;
  } while (rest > 0);
  return at === prefix.length - 1;
}

/** Everything verification needs from a bundle, computed once and shared by the checks. */
export interface BundleAnalysis {
  readonly bundle: JsonObject;
  readonly decision: JsonObject;
  readonly decisionId: string | undefined;
  readonly events: readonly JsonObject[];
  readonly routerLink: JsonObject;
  readonly integrity: JsonObject;
  /** Raw hex recomputed digest, or the reason it could not be computed. */
  readonly digest: { readonly ok: true; readonly hex: string } | { readonly ok: false; readonly error: string };
  /** Canonical payload text per event (undefined where a payload cannot be canonicalized). */
  readonly payloadJsons: readonly (string | undefined)[];
  /** Per event, the text its digest hashes when already written (see `CanonicalBundle`). */
  readonly digestInputs: readonly (string | undefined)[];
  /** Structural problems (shape and types), for the `schema` check. */
  readonly schemaProblems: readonly string[];
  replay(): { readonly ok: true; readonly view: DecisionView } | { readonly ok: false; readonly error: string };
}

function schemaProblemsOf(bundle: JsonObject, decision: JsonValue | undefined, events: JsonValue | undefined): string[] {
  const problems: string[] = [];
  if (bundle['bundle_version'] !== BUNDLE_VERSION)
    problems.push(`bundle_version must be "${BUNDLE_VERSION}", got ${show(bundle['bundle_version'])}`);
  if (!isJsonObject(decision)) {
    problems.push('decision must be an object');
  } else {
    for (const key of ['decision_id', 'goal', 'mode', 'created_at', 'status']) {
      if (typeof decision[key] !== 'string') problems.push(`decision.${key} must be a string`);
    }
    if (typeof decision['status'] === 'string' && !STATUSES.has(decision['status'])) {
      problems.push(`decision.status ${show(decision['status'])} is not a known status`);
    }
  }
  if (!Array.isArray(events)) {
    problems.push('events must be an array');
  } else {
    if (events.length === 0) problems.push('events must not be empty');
    const eventProblems: string[] = [];
    for (let i = 0; i < events.length; i++) {
      // A bounded list: a hostile bundle of millions of bad events must not cost a message each.
      if (eventProblems.length >= MAX_EVENT_PROBLEMS) {
        eventProblems.push(`events[${i}] and after were not checked`);
        break;
      }
      const event = events[i];
      if (!isJsonObject(event)) {
        eventProblems.push(`events[${i}] must be an object`);
        continue;
      }
      if (typeof event['event_id'] !== 'string') eventProblems.push(`events[${i}].event_id must be a string`);
      if (typeof event['decision_id'] !== 'string') eventProblems.push(`events[${i}].decision_id must be a string`);
      if (typeof event['seq'] !== 'number' || !Number.isSafeInteger(event['seq']))
        eventProblems.push(`events[${i}].seq must be an integer`);
      if (typeof event['type'] !== 'string' || !EVENT_TYPES.has(event['type']))
        eventProblems.push(`events[${i}].type ${show(event['type'])} is not a known event type`);
      if (typeof event['ts'] !== 'string') eventProblems.push(`events[${i}].ts must be a string`);
      if (!isJsonObject(event['payload'])) eventProblems.push(`events[${i}].payload must be an object`);
      const actor = event['actor'];
      if (!isJsonObject(actor) || (actor['type'] !== 'human' && actor['type'] !== 'system') || typeof actor['id'] !== 'string') {
        eventProblems.push(`events[${i}].actor must be {type: "human"|"system", id: string}`);
      }
      if (!isRawDigest(event['digest'])) eventProblems.push(`events[${i}].digest must be a raw sha256 hex digest`);
    }
    problems.push(...eventProblems);
  }
  if (bundle['template_snapshot'] !== undefined && !isJsonObject(bundle['template_snapshot']))
    problems.push('template_snapshot must be an object');
  if (bundle['router_link'] !== undefined && !isJsonObject(bundle['router_link'])) problems.push('router_link must be an object');
  const integrity = bundle['integrity'];
  if (!isJsonObject(integrity)) problems.push('integrity must be an object');
  else {
    if (!isPrefixedDigest(integrity['canonical_digest'])) problems.push('integrity.canonical_digest must be "sha256:" + 64 hex digits');
    if (integrity['alg'] !== undefined && integrity['alg'] !== 'sha256')
      problems.push(`integrity.alg must be "sha256", got ${show(integrity['alg'])}`);
  }
  return problems;
}

export function analyzeBundle(value: JsonValue | undefined): BundleAnalysis {
  const bundle = objectAt(value);
  const decision = objectAt(bundle['decision']);
  const rawEvents = bundle['events'];
  const events = (Array.isArray(rawEvents) ? rawEvents : []).map(objectAt);
  const decisionId = typeof decision['decision_id'] === 'string' ? decision['decision_id'] : undefined;

  // Canonicalizing costs a few times the document's size: done on first use, so a bundle
  // that fails the schema check never pays for it.
  let canonical:
    { digest: BundleAnalysis['digest']; payloadJsons: (string | undefined)[]; digestInputs: readonly (string | undefined)[] } | undefined;
  const canonicalized = () => {
    if (canonical) return canonical;
    try {
      const c = canonicalizeBundle(bundle);
      canonical = {
        digest: { ok: true, hex: canonicalBundleDigest(c) },
        payloadJsons: c.payloadJsons as string[],
        digestInputs: c.digestInputs,
      };
    } catch (error) {
      canonical = {
        digest: { ok: false, error: (error as Error).message },
        payloadJsons: events.map((event) => {
          try {
            return canonicalPayloadText(event);
          } catch {
            return undefined;
          }
        }),
        digestInputs: [],
      };
    }
    return canonical;
  };

  let replayed: ReturnType<BundleAnalysis['replay']> | undefined;
  return {
    bundle,
    decision,
    decisionId,
    events,
    routerLink: objectAt(bundle['router_link']),
    integrity: objectAt(bundle['integrity']),
    get digest() {
      return canonicalized().digest;
    },
    get payloadJsons() {
      return canonicalized().payloadJsons;
    },
    get digestInputs() {
      return canonicalized().digestInputs;
    },
    schemaProblems: schemaProblemsOf(bundle, bundle['decision'], rawEvents),
    replay() {
      if (replayed) return replayed;
      try {
        // Bundle events carry seq, type, ts, actor and payload under the names replay reads;
        // replay validates what it uses, so they are handed over without copying.
        const view = replayDecision(events as unknown as readonly ReplayableEvent[]);
        replayed = { ok: true, view };
      } catch (error) {
        replayed = { ok: false, error: (error as Error).message };
      }
      return replayed;
    },
  };
}

/** `control_bundle_digest` (in a package) / `bundle_digest` (bare): the recomputed digest equals the bundle's own. */
export function addBundleDigestCheck(checks: CheckList, name: string, a: BundleAnalysis): void {
  checks.run(name, () => {
    const claimed = a.integrity['canonical_digest'];
    const alg = a.integrity['alg'];
    if (!a.digest.ok) return { ok: false, detail: `the bundle digest cannot be computed: ${a.digest.error}`, expected: show(claimed) };
    const actual = prefixDigest(a.digest.hex);
    if (alg !== 'sha256') return { ok: false, detail: `integrity.alg must be "sha256", got ${show(alg)}`, expected: show(claimed), actual };
    const ok = typeof claimed === 'string' && unprefixDigest(claimed) === a.digest.hex;
    return { ok, detail: 'recomputed the bundle digest from its content', expected: show(claimed), actual };
  });
}

/** The checks the reference lacks (SPEC §6, deeper checks), for a bundle on its own or inside a package. */
export function addBundleDeepChecks(checks: CheckList, a: BundleAnalysis): void {
  checks.run('event_digests', () => {
    const bad: string[] = [];
    for (let i = 0; i < a.events.length; i++) {
      const event = a.events[i] as JsonObject;
      const payloadJson = a.payloadJsons[i];
      const type = event['type'];
      if (payloadJson === undefined || typeof type !== 'string') {
        bad.push(`events[${i}]: cannot be digested`);
        continue;
      }
      const input = a.digestInputs[i];
      const recomputed = input === undefined ? eventDigestFromPayloadJson(type, payloadJson) : sha256Hex(input);
      if (recomputed !== event['digest'])
        bad.push(`seq ${show(event['seq'])}: expected ${show(event['digest'])}, recomputed ${recomputed}`);
    }
    if (a.events.length === 0) return { ok: false, detail: 'the bundle has no events' };
    return bad.length === 0
      ? { ok: true, detail: `all ${a.events.length} event digests recompute from type and payload` }
      : { ok: false, detail: `${bad.length} event digest(s) do not recompute: ${listed(bad)}` };
  });

  checks.run('event_sequence', () => {
    const bad: string[] = [];
    for (let i = 0; i < a.events.length; i++) {
      const seq = (a.events[i] as JsonObject)['seq'];
      if (seq !== i) bad.push(`events[${i}] has seq ${show(seq)}`);
    }
    if (a.events.length === 0) return { ok: false, detail: 'the bundle has no events' };
    return bad.length === 0
      ? { ok: true, detail: `seq runs 0..${a.events.length - 1} without gaps` }
      : { ok: false, detail: `seq must run from 0 without gaps: ${listed(bad)}` };
  });

  checks.run('event_identity', () => {
    if (a.decisionId === undefined) return { ok: false, detail: 'decision.decision_id is missing' };
    const id = a.decisionId;
    const prefix = eventId(id, 0).slice(0, -1);
    const bad: string[] = [];
    for (let i = 0; i < a.events.length; i++) {
      const event = a.events[i] as JsonObject;
      if (event['decision_id'] !== id) bad.push(`events[${i}].decision_id is ${show(event['decision_id'])}`);
      if (!isEventIdOf(event['event_id'], prefix, event['seq'])) bad.push(`events[${i}].event_id is ${show(event['event_id'])}`);
    }
    return bad.length === 0
      ? { ok: true, detail: `every event belongs to ${id} and has the event_id derived from its seq` }
      : { ok: false, detail: `events disagree with the decision: ${listed(bad)}` };
  });

  checks.run('link_digest', () => {
    const link = normalizeRouterLink(a.bundle['router_link']);
    const claimed = link['control_router_link_digest'];
    const runId = link['run_id'];
    if (runId === undefined) {
      return claimed === undefined
        ? { ok: true, detail: 'no run: the bundle carries no link digest' }
        : { ok: false, detail: 'a link digest is present without a run_id', actual: show(claimed) };
    }
    const raw = (value: JsonValue | undefined): JsonValue => (typeof value === 'string' ? unprefixDigest(value) : (value ?? null));
    const recomputed = routerLinkDigest(
      a.decision['decision_id'] ?? null,
      runId,
      raw(link['router_request_digest']),
      raw(link['router_result_digest']),
    );
    return {
      ok: typeof claimed === 'string' && unprefixDigest(claimed) === recomputed,
      detail: 'recomputed the control-router link digest from decision_id, run_id and the two router digests',
      expected: show(claimed),
      actual: prefixDigest(recomputed),
    };
  });

  checks.run('replay_status', () => {
    const replay = a.replay();
    const claimed = a.decision['status'];
    if (!replay.ok) return { ok: false, detail: `the events do not replay: ${replay.error}`, expected: show(claimed) };
    const actual = replay.view.status.toUpperCase();
    return {
      ok: actual === claimed,
      detail: 'replayed the events (approvals evaluated at the last event)',
      expected: show(claimed),
      actual,
    };
  });

  checks.run('derived_fields', () => {
    const replay = a.replay();
    if (!replay.ok) return { ok: false, detail: `the events do not replay: ${replay.error}` };
    const first = a.events[0];
    const derived = deriveSections(a.decisionId ?? '', replay.view, typeof first?.['ts'] === 'string' ? first['ts'] : '');
    const mismatches: string[] = [];
    const claimedDecision = normalizeDecision(a.bundle['decision']);
    for (const key of ['goal', 'mode', 'created_at'] as const) {
      if (canonicalJson(claimedDecision[key] ?? null) !== canonicalJson(derived.decision[key])) {
        mismatches.push(`decision.${key} is ${show(claimedDecision[key])}, the events give ${show(derived.decision[key])}`);
      }
    }
    if (
      canonicalJson(normalizeTemplateSnapshot(a.bundle['template_snapshot'])) !==
      canonicalJson(derived.template_snapshot as unknown as JsonObject)
    ) {
      mismatches.push('template_snapshot differs from the POLICY_ATTACHED template fields');
    }
    if (canonicalJson(normalizeRouterLink(a.bundle['router_link'])) !== canonicalJson(derived.router_link as JsonObject)) {
      mismatches.push(`router_link differs from the latest execution: the events give ${canonicalJson(derived.router_link as JsonObject)}`);
    }
    return mismatches.length === 0
      ? { ok: true, detail: 'decision header, template snapshot and router link agree with the events' }
      : { ok: false, detail: listed(mismatches) };
  });
}

/** Problems with a bundle's provenance record (empty when it is the one its export writes). */
export function bundleProvenanceProblems(a: BundleAnalysis): string[] {
  const claimed = a.integrity['canonical_digest'];
  if (a.decisionId === undefined || typeof claimed !== 'string')
    return ['cannot be derived without decision_id and integrity.canonical_digest'];
  const expected = provenanceRecord(BUNDLE_EXPORT_METHOD_ID, a.decisionId, 'bundle', unprefixDigest(claimed));
  return provenanceProblems('bundle', a.bundle['provenance'], expected as unknown as JsonObject);
}

export function provenanceProblems(where: string, provenance: JsonValue | undefined, expected: JsonObject): string[] {
  const records = objectAt(provenance)['records'];
  if (!Array.isArray(records) || records.length === 0) return [`${where} provenance has no records`];
  const record = objectAt(records[0]);
  const problems: string[] = [];
  for (const key of ['prov_id', 'method_id', 'inputs', 'outputs']) {
    const want = canonicalJson(expected[key] ?? null);
    const got = record[key] === undefined ? '(absent)' : canonicalJson(record[key]);
    if (want !== got) problems.push(`${where} provenance ${key} is ${got}, expected ${want}`);
  }
  return problems;
}
