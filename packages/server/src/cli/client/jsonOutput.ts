/**
 * JSON text that is inserted verbatim (canonical JSON from the server: payloads, snapshots,
 * router responses), so integers beyond 2^53 and floats like `1.0` survive the output.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

export type OutputJson =
  null | boolean | number | string | RawJson | readonly OutputJson[] | { readonly [key: string]: OutputJson | undefined };

function render(value: OutputJson, indent: string, depth: number): string {
  if (value instanceof RawJson) return value.text.trim() === '' ? 'null' : value.text.trim();
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const pad = indent === '' ? '' : '\n' + indent.repeat(depth + 1);
  const close = indent === '' ? '' : '\n' + indent.repeat(depth);
  const colon = indent === '' ? ':' : ': ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return '[' + value.map((item: OutputJson) => pad + render(item, indent, depth + 1)).join(',') + close + ']';
  }
  const entries = Object.entries(value as { readonly [key: string]: OutputJson | undefined }).filter(
    (entry): entry is [string, OutputJson] => entry[1] !== undefined,
  );
  if (entries.length === 0) return '{}';
  return '{' + entries.map(([key, item]) => pad + JSON.stringify(key) + colon + render(item, indent, depth + 1)).join(',') + close + '}';
}

/** Indented JSON (two spaces); `compact` gives one line, for streams of records. Undefined properties are left out. */
export function renderJson(value: OutputJson, options: { compact?: boolean } = {}): string {
  return render(value, options.compact ? '' : '  ', 0);
}
