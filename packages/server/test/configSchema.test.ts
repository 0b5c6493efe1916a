import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, configProblem } from '../src/config/configFileSchema.js';

const committed = JSON.parse(readFileSync(new URL('../config.schema.json', import.meta.url), 'utf8')) as unknown;
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('the configuration file schema', () => {
  it('config.schema.json is the JSON Schema generated from the zod definition (npm run codegen:config-schema)', () => {
    expect(committed).toEqual(configJsonSchema());
  });

  it('accepts the example configuration of the README', () => {
    const example = /## Configuration[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // The example writes "<hex …>" where a real file has a token's SHA-256.
    expect(configProblem(JSON.parse(example!.replace(/"<hex[^"]*>"/g, `"${'0'.repeat(64)}"`)))).toBeUndefined();
  });

  it('lets a file name its schema for editors, and refuses keys it does not know', () => {
    expect(
      configProblem({ $schema: './node_modules/@nexus-control/server/config.schema.json', listen: '127.0.0.1:50051' }),
    ).toBeUndefined();
    expect(configProblem({ listen: '127.0.0.1:1', lisen: 'x' })).toBe("config: unknown key 'lisen'");
    expect(configProblem({ adapters: [{ id: 'pay', type: 'http', url: 'ftp://x' }] })).toBe(
      'adapters[0].url: must be an http: or https: URL',
    );
    expect(configProblem({ shutdownGraceMs: 0 })).toBe('shutdownGraceMs: must be a positive integer');
  });
});
