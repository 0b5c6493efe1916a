const SURROGATE = /[\uD800-\uDFFF]/;

/** True when the string holds any UTF-16 surrogate code unit, paired or not. */
export function hasSurrogate(text: string): boolean {
  return SURROGATE.test(text);
}

interface WellFormedCheck {
  isWellFormed(): boolean;
}

/** True when the string holds no lone surrogate (native `String.prototype.isWellFormed`, ES2024). */
export function isWellFormedString(text: string): boolean {
  return (text as unknown as WellFormedCheck).isWellFormed();
}

/**
 * Orders strings by Unicode code point, as Python compares `str`. UTF-16 code-unit order
 * differs only where a surrogate (an astral character) meets a unit in U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates above U+E000–U+FFFF while keeping every other unit's order. */
function rank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}
