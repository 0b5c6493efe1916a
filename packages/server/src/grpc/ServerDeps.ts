import type { Clock, EventStore, NexusControl, Router } from '@nexus-control/core';
import type { DocumentRunner } from '../documents/createDocumentRunner.js';
import type { ServerMetrics } from '../observability/createMetrics.js';

/** What the service handlers are built from. */
export interface ServerDeps {
  readonly nexus: NexusControl;
  /** For reads the facade does not offer (feed head, bundle and audit exports). */
  readonly store: EventStore;
  readonly router: Router;
  readonly clock: Clock;
  /** Parses and checks client documents without stalling the event loop. */
  readonly documents: DocumentRunner;
  /** Present when metrics are exported. */
  readonly metrics?: ServerMetrics;
}
