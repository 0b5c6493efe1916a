import type { LogLevel } from '../config/ServerConfig.js';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Written at level info whatever the threshold: lines that scripts wait for (readiness). */
  announce(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function serializable(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, ...(value.stack ? { stack: value.stack } : {}) };
  return value;
}

/** One JSON object per line: `{"ts","level","msg",…fields}`; lines below `level` are dropped. */
export function createLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const log =
    (level: LogLevel, always = false) =>
    (msg: string, fields: LogFields = {}) => {
      if (!always && RANK[level] < threshold) return;
      const entry: Record<string, unknown> = { ts: new Date().toISOString(), level, msg };
      for (const key of Object.keys(fields)) entry[key] = serializable(fields[key]);
      let text: string;
      try {
        // Fields are flat as a rule: without a replacer, serializing a line costs a fraction.
        text = JSON.stringify(entry);
      } catch {
        text = JSON.stringify(entry, (_key, value: unknown) => serializable(value));
      }
      write(text + '\n');
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), announce: log('info', true) };
}

/** Discards everything (embedding, tests). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, announce() {} };
