import { defineNexusProject } from '../../vitest.shared.js';

// Every call is a round trip to a server; the suite's large cases (500 decisions, 1 MiB
// payloads) take seconds there, and on the test emulator, which copies its whole store for
// every transaction, up to a minute on a busy machine.
export default defineNexusProject('store-mongo', { kind: 'store', testTimeout: 180_000 });
