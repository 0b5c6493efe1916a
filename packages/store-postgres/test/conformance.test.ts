import { describeEventStoreConformance } from '@nexus-control/store-conformance';
import { describe, it } from 'vitest';
import { createPostgresTestHarness, TEST_POSTGRES_URL } from './postgresHarness.js';

// Every test gets a fresh schema on the one database NEXUS_TEST_POSTGRES_URL names.
if (TEST_POSTGRES_URL === undefined) {
  describe('postgres conformance', () => {
    it.skip('needs NEXUS_TEST_POSTGRES_URL (see the README)', () => undefined);
  });
} else {
  describeEventStoreConformance('postgres', createPostgresTestHarness());
}
