import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const committed = join(root, 'packages', 'client', 'src', 'gen');

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('generated code', () => {
  const fresh = mkdtempSync(join(tmpdir(), 'nexus-codegen-'));
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  it('regenerating from proto/ reproduces the committed files byte for byte', () => {
    const run = spawnSync(process.execPath, [join(root, 'tools', 'codegen', 'generate-proto.mjs'), fresh], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const files = listFiles(fresh);
    expect(files).toContain('descriptor_set.binpb');
    expect(files).toContain(join('nexus', 'control', 'v1', 'decisions.ts'));
    expect(listFiles(committed)).toEqual(files);
    const differing = files.filter((file) => !readFileSync(join(fresh, file)).equals(readFileSync(join(committed, file))));
    expect(differing).toEqual([]);
  });
});
