import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Random W3C trace and span ids (hex), cut from a pool refilled from the system's random source
 * once every few hundred ids rather than one system call per id. An all-zero id is invalid and
 * never handed out.
 */
export function createIdSource(): { traceId(): string; spanId(): string } {
  const pool = Buffer.alloc(POOL_BYTES);
  let at = POOL_BYTES;
  const take = (bytes: number): string => {
    for (;;) {
      if (at + bytes > POOL_BYTES) {
        randomFillSync(pool);
        at = 0;
      }
      const id = pool.toString('hex', at, at + bytes);
      at += bytes;
      if (id !== (bytes === 16 ? ZERO_TRACE_ID : ZERO_SPAN_ID)) return id;
    }
  };
  return { traceId: () => take(16), spanId: () => take(8) };
}
