import { describe, expect, it } from 'vitest';
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
