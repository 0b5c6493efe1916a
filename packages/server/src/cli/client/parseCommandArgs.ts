import { parseArgs, type ParseArgsConfig } from 'node:util';

type Parsed<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: typeof CLIENT_OPTIONS & O; allowPositionals: true; strict: true }>
>;
import { CLIENT_OPTIONS } from './clientOptions.js';
import { UsageError } from './UsageError.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with the common client options added; its complaints become usage errors. */
export function parseCommandArgs<const O extends OptionsConfig>(argv: readonly string[], options: O): Parsed<O> {
  const all = { ...CLIENT_OPTIONS, ...options };
  try {
    return parseArgs({ args: [...argv], options: all, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Exactly `names.length` positional arguments, named for the error message. */
export function positionalArgs(positionals: readonly string[], names: readonly string[]): string[] {
  if (positionals.length !== names.length) {
    const expected = names.length === 0 ? 'no arguments' : names.join(' ');
    throw new UsageError(`expected ${expected}, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  }
  return [...positionals];
}

/** A positive integer flag value. */
export function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} must be a positive integer, got '${text}'`);
  }
  return Number(text);
}
