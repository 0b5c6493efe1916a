import type { VerificationCheck, VerificationReport } from './types.js';

export interface CheckList {
  /** Records a check outcome. */
  add(name: string, ok: boolean, detail: string, expected?: string, actual?: string): void;
  /** Runs a check; an exception fails that check alone (verification never short-circuits). */
  run(name: string, check: () => Omit<VerificationCheck, 'name'>): void;
  report(kind: VerificationReport['kind']): VerificationReport;
}

export function createCheckList(): CheckList {
  const checks: VerificationCheck[] = [];
  const add: CheckList['add'] = (name, ok, detail, expected, actual) => {
    const check: VerificationCheck = { name, ok, detail };
    if (expected !== undefined) check.expected = expected;
    if (actual !== undefined) check.actual = actual;
    checks.push(check);
  };
  return {
    add,
    run(name, check) {
      try {
        const result = check();
        add(name, result.ok, result.detail, result.expected, result.actual);
      } catch (error) {
        add(name, false, `could not be evaluated: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    report(kind) {
      let passed = 0;
      for (const check of checks) if (check.ok) passed++;
      return { ok: passed === checks.length, kind, checks, passed, failed: checks.length - passed, total: checks.length };
    },
  };
}

/** A value shown in a report: strings as they are, anything else as JSON-ish text. */
export function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '(absent)';
  if (typeof value === 'bigint') return value.toString();
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
