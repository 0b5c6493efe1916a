/** The most characters of any input an error message or detail repeats. */
export const QUOTE_MAX_CHARS = 64;

/**
 * A value as an error may repeat it: JSON-quoted, cut to a short prefix, with the full
 * length named when cut. Errors travel in messages, details and trailers; an unbounded echo
 * of the input could push them past a client's metadata limit and hide the real error.
 */
export function quote(value: string, max = QUOTE_MAX_CHARS): string {
  if (value.length <= max) return JSON.stringify(value);
  // Never cut a surrogate pair in half.
  let end = max;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${JSON.stringify(value.slice(0, end))}… (${value.length} characters)`;
}

/** Cuts free text (an error message) to `max` characters, marking the cut. */
export function truncateText(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max - 1;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${value.slice(0, end)}…`;
}
