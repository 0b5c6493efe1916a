import { NexusError } from '../errors/NexusError.js';

/**
 * A float as Python's `repr` prints it: the shortest digits that round-trip, fixed notation
 * when the decimal exponent is in [-4, 16) (always with a fraction: `1.0`, `-0.0`), otherwise
 * `d[.ddd]e±XX` with at least two exponent digits (`1e-05`, `1e+16`, `1.5e+300`).
 */
export function pythonFloatRepr(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  if (!Number.isFinite(x)) {
    throw new NexusError('CANONICAL_JSON_INVALID', `${x} is not a JSON number`, { value: String(x) });
  }
  const magnitude = x < 0 ? -x : x;
  if (magnitude >= 1e-4 && magnitude < 1e16) {
    // JavaScript also prints fixed notation (with the same shortest digits) in this range.
    const fixed = String(x);
    return Number.isInteger(x) ? fixed + '.0' : fixed;
  }
  // toExponential() without an argument gives the shortest round-trip digits, e.g. "1e-7".
  const exp = x.toExponential();
  const e = exp.indexOf('e');
  return exp.length - e === 3 ? exp.slice(0, e + 2) + '0' + exp.slice(e + 2) : exp;
}
