// Writes packages/server/config.schema.json, the JSON Schema of the server configuration file,
// from its zod definition. Run with `npm run codegen:config-schema`; a test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../../packages/server/src/config/configFileSchema.js';

const target = new URL('../../packages/server/config.schema.json', import.meta.url);
writeFileSync(target, JSON.stringify(configJsonSchema(), null, 2) + '\n');
console.log(`wrote ${target.pathname}`);
