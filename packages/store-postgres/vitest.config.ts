import { defineNexusProject } from '../../vitest.shared.js';

// The feed of every schema waits for the cluster's oldest open transaction: files that hold
// transactions open on purpose would slow each other's reads, so they run one at a time.
export default defineNexusProject('store-postgres', { kind: 'store', fileParallelism: false });
