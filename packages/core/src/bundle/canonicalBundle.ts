import { createHash } from 'node:crypto';
import { canonicalJson } from '../json/canonicalJson.js';
import { hasSurrogate } from '../json/unicode.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json/JsonValue.js';
import { BUNDLE_VERSION } from './types.js';

/*
 * The bundle digest covers the reference implementation's *projection* of a bundle: it reads
 * each section into fixed fields (with its defaults for absent keys) and writes them back
 * before hashing. Reproducing that projection, rather than hashing whatever keys a document
 * carries, is what makes digests agree with bundles it exported (SPEC §5).
 */

function field(object: JsonObject, key: string, fallback: JsonValue): JsonValue {
  const value = object[key];
  return value === undefined ? fallback : value;
}

/** Python truthiness of a JSON value (the reference tests `present` and optional sections that way). */
export function pyTruthy(value: JsonValue | undefined): boolean {
  if (value === undefined || value === null || value === false || value === '' || value === 0) return false;
  if (typeof value === 'bigint') return value !== 0n;
  if (Array.isArray(value)) return value.length > 0;
  if (isJsonObject(value)) return Object.keys(value).length > 0;
  if (typeof value === 'object') return value.value !== 0; // JsonFloat
  return true;
}

export function normalizeDecision(decision: JsonValue | undefined): JsonObject {
  const d = isJsonObject(decision) ? decision : {};
  return {
    decision_id: field(d, 'decision_id', null),
    goal: field(d, 'goal', null),
    mode: field(d, 'mode', 'dry_run'),
    created_at: field(d, 'created_at', null),
    status: field(d, 'status', null),
  };
}

export function normalizeTemplateSnapshot(snapshot: JsonValue | undefined): JsonObject {
  const t = isJsonObject(snapshot) ? snapshot : {};
  if (!pyTruthy(t['present'])) return { present: false };
  return {
    present: true,
    name: field(t, 'name', null),
    digest: field(t, 'digest', null),
    snapshot: field(t, 'snapshot', null),
    overrides: field(t, 'overrides', null),
  };
}

const ROUTER_LINK_KEYS = ['run_id', 'adapter_id', 'router_request_digest', 'router_result_digest', 'control_router_link_digest'] as const;

export function normalizeRouterLink(link: JsonValue | undefined): JsonObject {
  const l = isJsonObject(link) ? link : {};
  const out: JsonObject = {};
  for (const key of ROUTER_LINK_KEYS) {
    const value = l[key];
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}

function isPlainActor(actor: JsonValue | undefined): actor is { type: string; id: string } {
  if (!isJsonObject(actor)) return false;
  let keys = 0;
  for (const key in actor) {
    if (key !== 'type' && key !== 'id') return false;
    keys++;
  }
  return keys === 2;
}

function present(value: JsonValue | undefined, fallback: JsonValue): JsonValue {
  return value === undefined ? fallback : value;
}

function isSimpleValue(value: JsonValue | undefined): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isSafeInteger(value);
    case 'object':
      return value === null;
    default:
      return false;
  }
}

/**
 * Whether the native serializer already writes this payload canonically (up to lone
 * surrogates, which the caller detects on the output): keys in order and free of surrogates,
 * values strings, booleans, null, safe integers or flat arrays of those.
 */
function isSimplePayload(payload: JsonValue): payload is JsonObject {
  if (!isJsonObject(payload)) return false;
  let previous: string | undefined;
  for (const key in payload) {
    if ((previous !== undefined && previous >= key) || hasSurrogate(key)) return false;
    previous = key;
    const value = payload[key];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (!isSimpleValue(value[i])) return false;
    } else if (!isSimpleValue(value)) {
      return false;
    }
  }
  return true;
}

/** Marks where an exact payload text goes; never survives: a lone surrogate is not canonical. */
const PLACEHOLDER = '\uDFFF';
const PLACEHOLDER_IN_OUTPUT = /"\\udfff(\d+)"/g;
const ESCAPED_SURROGATE_START = '\\ud';

interface ProjectedEvents {
  /** Events with keys inserted in code point order, payloads as they are. */
  readonly exact: JsonObject[];
  /** The same, with each non-simple payload swapped for a placeholder (undefined: not possible). */
  readonly fast: JsonObject[] | undefined;
  /** Canonical text of each placeholder's payload, by placeholder number. */
  readonly placed: string[];
  /** Each event's canonical payload text, where already known (valid once `eventsText` has passed). */
  readonly payloadJsons: (string | undefined)[];
  /** Each event's digest input, canonical `{"event_type","payload"}`, where written here (valid likewise). */
  readonly digestInputs: (string | undefined)[];
}

const PROJECTED_KEYS = ['actor', 'decision_id', 'digest', 'event_id', 'payload', 'seq', 'ts', 'type'];

/** Whether an event already has exactly the projected keys in order, and a `{id, type}` actor. */
function hasProjectedLayout(event: JsonObject): boolean {
  let i = 0;
  for (const key in event) {
    if (key !== PROJECTED_KEYS[i]) return false;
    i++;
  }
  if (i !== PROJECTED_KEYS.length) return false;
  const actor = event['actor'];
  if (!isJsonObject(actor)) return false;
  i = 0;
  for (const key in actor) {
    if (key !== (i === 0 ? 'id' : 'type')) return false;
    i++;
  }
  return i === 2;
}

/**
 * Each event as the digest sees it, keys inserted in code point order (actor, decision_id,
 * digest, event_id, payload, seq, ts, type). Alongside, a copy the native serializer can
 * write exactly, when every field but the payload is a plain string or integer.
 */
function projectEvents(events: readonly JsonValue[], known: readonly string[] | undefined): ProjectedEvents {
  const n = events.length;
  const exact: JsonObject[] = new Array<JsonObject>(n);
  let fast: JsonObject[] | undefined = new Array<JsonObject>(n);
  const placed: string[] = [];
  const payloadJsons: (string | undefined)[] = new Array<string | undefined>(n);
  const digestInputs: (string | undefined)[] = new Array<string | undefined>(n);
  const digestIndices: number[] = [];
  const digestObjects: DigestObject[] = [];
  for (let i = 0; i < n; i++) {
    const raw = events[i] as JsonValue;
    const event = isJsonObject(raw) ? raw : {};
    const actor = event['actor'];
    const payload = present(event['payload'], {});
    const plainActor = isPlainActor(actor);
    // A document written canonically already has this layout: no copy needed.
    const projected: JsonObject = hasProjectedLayout(event)
      ? event
      : {
          actor: plainActor ? { id: actor.id, type: actor.type } : present(actor, {}),
          decision_id: present(event['decision_id'], null),
          digest: present(event['digest'], ''),
          event_id: present(event['event_id'], null),
          payload,
          seq: present(event['seq'], null),
          ts: present(event['ts'], null),
          type: present(event['type'], null),
        };
    exact[i] = projected;
    if (fast === undefined) continue;
    if (
      !plainActor ||
      typeof actor.id !== 'string' ||
      typeof actor.type !== 'string' ||
      !isSimpleValue(projected['decision_id']) ||
      !isSimpleValue(projected['digest']) ||
      !isSimpleValue(projected['event_id']) ||
      !isSimpleValue(projected['seq']) ||
      !isSimpleValue(projected['ts']) ||
      !isSimpleValue(projected['type'])
    ) {
      fast = undefined;
      continue;
    }
    if (isSimplePayload(payload)) {
      fast[i] = projected;
      // Exact unless a string holds a lone surrogate, and then `eventsText` throws.
      const knownText = known?.[i];
      const type = projected['type'];
      if (knownText !== undefined) {
        payloadJsons[i] = knownText;
      } else if (typeof type === 'string') {
        digestIndices.push(i);
        digestObjects.push({ event_type: type, payload });
      } else {
        payloadJsons[i] = JSON.stringify(payload);
      }
    } else {
      const text = known?.[i] ?? canonicalJson(payload);
      payloadJsons[i] = text;
      placed.push(text);
      fast[i] = { ...projected, payload: PLACEHOLDER + (placed.length - 1) };
    }
  }
  writeDigestInputs(digestIndices, digestObjects, digestInputs, payloadJsons);
  return { exact, fast, placed, payloadJsons, digestInputs };
}

/** What an event digest hashes (canonically written, keys already in order). */
interface DigestObject {
  readonly event_type: string;
  readonly payload: JsonObject;
}

/** How an event digest's input starts, and what stands between the type and the payload. */
const EVENT_TYPE_KEY = '{"event_type":';
const PAYLOAD_KEY = ',"payload":';
/** Between two digest inputs written as one array. */
const DIGEST_INPUT_BOUNDARY = '},{"event_type":';

/**
 * The digest inputs of the events at `indices`, whose payloads the native serializer writes
 * exactly, and their payload texts (slices of them). One serialization of all of them is far
 * cheaper than one each; it is cut at `},{"event_type":`, which occurs nowhere inside one
 * input: its quotes would close a string (and what follows a closed string is never
 * `event_type`), and a flat payload has no other `}` followed by `,{`.
 */
function writeDigestInputs(
  indices: readonly number[],
  objects: readonly DigestObject[],
  digestInputs: (string | undefined)[],
  payloadJsons: (string | undefined)[],
): void {
  const m = indices.length;
  if (m === 0) return;
  const text = JSON.stringify(objects);
  // Types repeat from event to event: the length of the last one's JSON text is kept.
  let lastType = '';
  let lastTypeLength = 2;
  let start = 1;
  for (let k = 0; k < m; k++) {
    const object = objects[k] as DigestObject;
    if (object.event_type !== lastType) {
      lastType = object.event_type;
      lastTypeLength = JSON.stringify(lastType).length;
    }
    let input: string;
    const end = k === m - 1 ? text.length - 1 : text.indexOf(DIGEST_INPUT_BOUNDARY, start) + 1;
    if (start > 0 && end > start) {
      input = text.slice(start, end);
      start = end + 1;
    } else {
      // Unreachable by the argument above; should it ever fail, each input is written alone.
      input = JSON.stringify(object);
      start = -1;
    }
    const i = indices[k] as number;
    digestInputs[i] = input;
    payloadJsons[i] = input.slice(EVENT_TYPE_KEY.length + lastTypeLength + PAYLOAD_KEY.length, input.length - 1);
  }
}

/**
 * Canonical text of the projected events. Fast path: one native serialization, exact text
 * put back for placeholders; valid only when the output holds no escaped surrogate besides
 * the placeholders (a lone surrogate in an input string, or text that mimics one). Otherwise
 * `canonicalJson` decides (and rejects lone surrogates).
 */
function eventsText(projection: ProjectedEvents): string {
  const { fast, placed } = projection;
  if (fast !== undefined) {
    const text = JSON.stringify(fast);
    let escapes = 0;
    for (let at = text.indexOf(ESCAPED_SURROGATE_START); at !== -1; at = text.indexOf(ESCAPED_SURROGATE_START, at + 3)) escapes++;
    if (escapes === placed.length) {
      return escapes === 0 ? text : text.replace(PLACEHOLDER_IN_OUTPUT, (_match: string, index: string) => placed[Number(index)] as string);
    }
  }
  return canonicalJson(projection.exact);
}

/** The canonical text of an event's payload (an absent payload reads as `{}`, as in the reference). */
export function canonicalPayloadText(event: JsonObject): string {
  const payload = event['payload'];
  return canonicalJson(payload === undefined ? {} : payload);
}

export interface CanonicalBundle {
  /**
   * Canonical text of `{bundle_version, decision, events, router_link, template_snapshot}`,
   * in consecutive parts (hashing them in turn spares joining megabytes of events).
   */
  readonly parts: readonly string[];
  /** Canonical payload text of each event, index-aligned with `events`. */
  readonly payloadJsons: readonly string[];
  /**
   * Where already written, each event's digest input: the canonical text of
   * `{"event_type": type, "payload": payload}`, which `eventDigestFromPayloadJson` would hash.
   */
  readonly digestInputs: readonly (string | undefined)[];
}

/**
 * Canonical digest input of a bundle document, and each event's canonical payload text (for
 * the event digests). The events are written by one native serialization of their
 * projections; each payload's own text then comes from the native serializer when exact.
 * `payloadJsons`, when given, are payload texts already known to be canonical (as stored).
 */
export function canonicalizeBundle(bundle: JsonObject, payloadJsons?: readonly string[]): CanonicalBundle {
  const rawEvents = bundle['events'];
  const projection = projectEvents(Array.isArray(rawEvents) ? rawEvents : [], payloadJsons);
  const events = eventsText(projection);
  // Where the fast projection gave up, the payload texts are still to be written (strings are
  // now known to be well formed, so the native serializer is exact for simple payloads).
  const payloads: string[] = new Array<string>(projection.exact.length);
  for (let i = 0; i < payloads.length; i++) {
    const known = projection.payloadJsons[i] ?? payloadJsons?.[i];
    if (known !== undefined) {
      payloads[i] = known;
      continue;
    }
    const payload = (projection.exact[i] as JsonObject)['payload'] as JsonValue;
    payloads[i] = isSimplePayload(payload) ? JSON.stringify(payload) : canonicalJson(payload);
  }
  const parts = [
    `{"bundle_version":${canonicalJson(field(bundle, 'bundle_version', BUNDLE_VERSION))}` +
      `,"decision":${canonicalJson(normalizeDecision(bundle['decision']))},"events":`,
    events,
    `,"router_link":${canonicalJson(normalizeRouterLink(bundle['router_link']))}` +
      `,"template_snapshot":${canonicalJson(normalizeTemplateSnapshot(bundle['template_snapshot']))}}`,
  ];
  return { parts, payloadJsons: payloads, digestInputs: projection.digestInputs };
}

/** Raw hex SHA-256 of the canonical text. */
export function canonicalBundleDigest(canonical: CanonicalBundle): string {
  const hash = createHash('sha256');
  for (const part of canonical.parts) hash.update(part);
  return hash.digest('hex');
}
