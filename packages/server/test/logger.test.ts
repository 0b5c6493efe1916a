import { describe, expect, it } from 'vitest';
import { createBatchedWrite } from '../src/logging/createBatchedWrite.js';
import { createLogger } from '../src/logging/createLogger.js';

describe('logger', () => {
  it('drops lines below its level but always writes announcements such as readiness', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (line) => lines.push(line) });
    logger.info('chatty');
    logger.announce('listening', { port: 1 });
    logger.warn('careful');
    expect(lines.map((line) => JSON.parse(line) as { msg: string; level: string })).toMatchObject([
      { msg: 'listening', level: 'info', port: 1 },
      { msg: 'careful', level: 'warn' },
    ]);
  });
});

describe('batched log writes', () => {
  it('hands the lines of one turn on in one write, in order, and writes nothing when nothing was logged', async () => {
    const writes: string[] = [];
    const write = createBatchedWrite((text) => writes.push(text));
    const logger = createLogger({ write });
    logger.info('first', { n: 1 });
    logger.info('second', { n: 2 });
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    expect(
      writes[0]!
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { msg: string }).msg),
    ).toEqual(['first', 'second']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
  });

  it('writes at once when a turn has logged a lot, so a burst never piles up unbounded', () => {
    const writes: string[] = [];
    const write = createBatchedWrite((text) => writes.push(text));
    const line = 'x'.repeat(1000) + '\n';
    for (let i = 0; i < 100; i++) write(line);
    expect(writes.length).toBeGreaterThanOrEqual(1);
    expect(writes.every((text) => text.length <= 65 * 1024)).toBe(true);
  });

  it('keeps an Error field readable and serializes a nested bigint', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    logger.error('failed', { error: new Error('boom'), nested: { big: 10n } });
    expect(JSON.parse(lines[0]!)).toMatchObject({ error: { name: 'Error', message: 'boom' }, nested: { big: '10' } });
  });
});
