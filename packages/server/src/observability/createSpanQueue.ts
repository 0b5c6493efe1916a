import { spanJsonBound, writeSpanJson } from './otlpTraceJson.js';
import type { SpanRecord } from './SpanRecord.js';

/** Spans already written as the comma-separated elements of an OTLP JSON span list. */
export interface SpanBatch {
  /** Bytes `0..length` are the batch's text. */
  readonly bytes: Buffer;
  readonly length: number;
  readonly count: number;
}

export interface SpanQueue {
  /** Spans queued, in batches and in the one being filled. */
  readonly size: number;
  /** A batch is full and waiting. */
  readonly hasFullBatch: boolean;
  /** False when the queue is at its bound: the span is dropped. */
  add(span: SpanRecord): boolean;
  /** The oldest batch (the one being filled when it is the only one); undefined when empty. */
  take(): SpanBatch | undefined;
  /** Puts a taken batch back in front; false, and the batch dropped, when its spans no longer fit. */
  putBack(batch: SpanBatch): boolean;
  /** A taken batch is done with: its memory serves a later batch. */
  release(batch: SpanBatch): void;
}

const FIRST_CAPACITY = 64 * 1024;
/** Buffers kept for reuse: one being sent, one being filled. */
const SPARE_BUFFERS = 2;

interface OpenBatch {
  bytes: Buffer;
  length: number;
  count: number;
}

/**
 * Finished spans wait for export as bytes (OTLP JSON), not as objects: a span written out when it ends
 * leaves nothing behind for the garbage collector to carry into the old generation while the
 * batch fills (a second, at the default interval), and the batch's buffer is reused. At most
 * `maxQueue` spans wait; a batch closes at `maxBatch` spans or `maxBatchBytes`.
 */
export function createSpanQueue(options: { maxQueue: number; maxBatch: number; maxBatchBytes: number }): SpanQueue {
  const { maxQueue, maxBatch, maxBatchBytes } = options;
  const full: SpanBatch[] = [];
  const spare: Buffer[] = [];
  let open: OpenBatch | undefined;
  let size = 0;

  const buffer = (atLeast: number): Buffer => {
    const reused = spare.pop();
    if (reused !== undefined && reused.length >= atLeast) return reused;
    return Buffer.allocUnsafe(Math.max(FIRST_CAPACITY, atLeast));
  };

  const close = () => {
    if (open === undefined) return;
    full.push(open);
    open = undefined;
  };

  return {
    get size() {
      return size;
    },
    get hasFullBatch() {
      return full.length > 0;
    },
    add(span) {
      if (size >= maxQueue) return false;
      // One more for the separating comma.
      const room = spanJsonBound(span) + 1;
      if (open === undefined) open = { bytes: buffer(room), length: 0, count: 0 };
      else if (open.length + room > open.bytes.length) {
        const grown = buffer(Math.max(open.bytes.length * 2, open.length + room));
        open.bytes.copy(grown, 0, 0, open.length);
        if (spare.length < SPARE_BUFFERS) spare.push(open.bytes);
        open.bytes = grown;
      }
      if (open.count > 0) open.bytes[open.length++] = 0x2c;
      open.length = writeSpanJson(open.bytes, open.length, span);
      open.count++;
      size++;
      if (open.count >= maxBatch || open.length >= maxBatchBytes) close();
      return true;
    },
    take() {
      if (full.length === 0) close();
      const batch = full.shift();
      if (batch !== undefined) size -= batch.count;
      return batch;
    },
    putBack(batch) {
      if (size + batch.count > maxQueue) {
        this.release(batch);
        return false;
      }
      full.unshift(batch);
      size += batch.count;
      return true;
    },
    release(batch) {
      if (spare.length < SPARE_BUFFERS) spare.push(batch.bytes);
    },
  };
}
