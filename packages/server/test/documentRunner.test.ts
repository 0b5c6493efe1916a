import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createDocumentRunner } from '../src/documents/createDocumentRunner.js';

const builtRunner = new URL('../dist/documents/createDocumentRunner.js', import.meta.url);

describe('document runner', () => {
  it('runs a large document in a process of its own from the TypeScript sources, and returns its failure with its code', async () => {
    const runner = createDocumentRunner({ inlineMaxChars: 0 });
    const report = await runner.run('verifyAuditPackage', { packageJson: '{}', publicKeys: [] }, 2);
    expect(report.ok).toBe(false);
    await expect(runner.run('attachAttestation', { packageJson: 'not json', attestationJson: '{}' }, 8)).rejects.toMatchObject({
      code: 'PACKAGE_INVALID_SCHEMA',
    });
  });

  it('built, runs its document process with plain node and no TypeScript loader', async () => {
    expect(existsSync(builtRunner), 'the server is built (npm run build)').toBe(true);
    const script = `
      const { createDocumentRunner } = await import(${JSON.stringify(builtRunner.href)});
      const runner = createDocumentRunner({ inlineMaxChars: 0 });
      const failed = await runner.run('attachAttestation', { packageJson: 'not json', attestationJson: '{}' }, 8).catch((error) => error.code);
      console.log(JSON.stringify({ failed }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { PATH: process.env['PATH'] ?? '' },
    });
    expect(JSON.parse(stdout)).toEqual({ failed: 'PACKAGE_INVALID_SCHEMA' });
  });
});
