import { describe, expect, it } from 'vitest';
import { NexusError } from '../../src/errors/NexusError.js';
import { newEvent } from '../../src/events/newEvent.js';
import { JsonFloat } from '../../src/json/JsonValue.js';
import { checkImportRequest } from '../../src/store/checkImportRequest.js';
import { checkReadEventsOptions } from '../../src/store/checkReadEventsOptions.js';
import { checkReadFeedOptions, MAX_CHECKPOINT_LENGTH } from '../../src/store/checkReadFeedOptions.js';
import { copyStoredEvent } from '../../src/store/copyStoredEvent.js';
import { DEFAULT_FEED_LIMIT, FEED_START, type ImportRequest } from '../../src/store/EventStore.js';
import { parsePayload } from '../../src/store/parsePayload.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(NexusError);
    return (error as NexusError).code;
  }
}

const created = newEvent(
  'DECISION_CREATED',
  { goal: 'g', plan: null, requested_mode: 'dry_run', labels: [] },
  { type: 'human', id: 'r' },
  '2025-01-01T00:00:00+00:00',
);
const header = { decisionId: 'd1', createdAt: created.ts, goal: 'g', requestedMode: 'dry_run' as const, labels: [] };

describe('checkReadEventsOptions', () => {
  it('applies the defaults and keeps what was given', () => {
    expect(checkReadEventsOptions()).toEqual({ fromSeq: 0, toSeq: undefined, generation: undefined });
    expect(checkReadEventsOptions({ fromSeq: 2, toSeq: 5, generation: 1 })).toEqual({ fromSeq: 2, toSeq: 5, generation: 1 });
  });

  it.each([{ fromSeq: -1 }, { toSeq: 1.5 }, { generation: -1 }, { generation: '1' }, { fromSeq: Number.NaN }])(
    'rejects %j with INVALID_ARGUMENT',
    (options) => {
      expect(codeOf(() => checkReadEventsOptions(options as never))).toBe('INVALID_ARGUMENT');
    },
  );
});

describe('checkReadFeedOptions', () => {
  it('applies the defaults and keeps what was given', () => {
    expect(checkReadFeedOptions()).toEqual({ after: FEED_START, decisionId: undefined, limit: DEFAULT_FEED_LIMIT });
    expect(checkReadFeedOptions({ after: 'x', decisionId: 'd1', limit: 3 })).toEqual({ after: 'x', decisionId: 'd1', limit: 3 });
  });

  it.each([
    { limit: 0 },
    { limit: 2.5 },
    { limit: '3' },
    { after: 7 },
    { after: 'x'.repeat(MAX_CHECKPOINT_LENGTH + 1) },
    { decisionId: 1 },
  ])('rejects %j with INVALID_ARGUMENT', (options) => {
    expect(codeOf(() => checkReadFeedOptions(options as never))).toBe('INVALID_ARGUMENT');
  });
});

describe('checkImportRequest', () => {
  const valid: ImportRequest = { header, events: [created], status: 'draft', conflictMode: 'reject' };

  it('accepts a well-formed import, with or without the version an overwrite replaces', () => {
    expect(codeOf(() => checkImportRequest(valid))).toBeUndefined();
    expect(
      codeOf(() => checkImportRequest({ ...valid, conflictMode: 'overwrite', expectedVersion: { generation: 0, length: 4 } })),
    ).toBeUndefined();
  });

  it.each([
    ['no events', { events: [] }],
    ['an unknown conflict mode', { conflictMode: 'merge' }],
    ['an expectedVersion on a reject', { expectedVersion: { generation: 0, length: 1 } }],
    ['a malformed expectedVersion', { conflictMode: 'overwrite', expectedVersion: { generation: -1, length: 1 } }],
    ['a verify that is not a function', { verify: 'yes' }],
    ['no header', { header: undefined }],
  ])('rejects %s with INVALID_ARGUMENT', (_name, change) => {
    expect(codeOf(() => checkImportRequest({ ...valid, ...change } as never))).toBe('INVALID_ARGUMENT');
  });
});

describe('copyStoredEvent', () => {
  it('copies deeply, keeping JSON identity, and freezes on request', () => {
    const event = {
      ...created,
      payload: { ...created.payload, f: new JsonFloat(1), big: 2n ** 64n },
      decisionId: 'd1',
      seq: 0,
      generation: 0,
      checkpoint: '1',
    };
    const copy = copyStoredEvent(event);
    expect(copy).toEqual(event);
    expect(copy.payload).not.toBe(event.payload);
    expect(copy.payload['f']).toBeInstanceOf(JsonFloat);
    expect(Object.isFrozen(copy)).toBe(false);
    const frozen = copyStoredEvent(event, true);
    expect(Object.isFrozen(frozen) && Object.isFrozen(frozen.payload) && Object.isFrozen(frozen.actor)).toBe(true);
  });
});

describe('parsePayload', () => {
  it('reads canonical JSON back losslessly', () => {
    const payload = parsePayload('{"big":18446744073709551616,"f":1.0,"s":"\\u0000"}');
    expect(payload['big']).toBe(2n ** 64n);
    expect(payload['f']).toBeInstanceOf(JsonFloat);
    expect(payload['s']).toBe('\u0000');
  });

  it.each(['', '[1]', '"text"', '{"a":', 'null'])('calls %j a corrupt store (STORE_CORRUPT)', (text) => {
    expect(codeOf(() => parsePayload(text))).toBe('STORE_CORRUPT');
  });
});
