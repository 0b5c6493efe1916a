import type { Collection, Db } from 'mongodb';

/** One event of one log. `_id` is its feed position (see `feedCheckpoint.ts`). */
export interface EventDocument {
  _id: number;
  /** decision id */
  d: string;
  /** generation of the log */
  g: number;
  /** seq within the log */
  s: number;
  /** event type */
  t: string;
  ts: string;
  /** actor type and id */
  at: string;
  ai: string;
  /** canonical JSON text of the payload (BSON would not keep it exactly) */
  j: string;
  /** event digest */
  h: string;
}

/** The header and current log version of a decision. */
export interface DecisionDocument {
  _id: string;
  /** Feed position of the decision's first event: the listing's keyset, kept on overwrite. */
  listPosition: number;
  createdAt: string;
  goal: string;
  requestedMode: string;
  labels: string[];
  status: string;
  generation: number;
  length: number;
  updatedAt: string;
}

export interface IdempotencyDocument {
  _id: string;
  fingerprint: string;
  decisionId: string;
  generation: number;
  seq: number;
}

export interface RouterResultDocument {
  /** `routerResultId(decisionId, runId)`: one string, unambiguous for any two ids. */
  _id: string;
  decisionId: string;
  runId: string;
  responseJson: string;
}

/** A JSON array of the two ids: no separator character can make two pairs collide. */
export function routerResultId(decisionId: string, runId: string): string {
  return JSON.stringify([decisionId, runId]);
}

export interface TemplateDocument {
  _id: string;
  /** canonical JSON text of the snapshot */
  snapshot: string;
  digest: string;
  createdAt: string;
  createdByType: string;
  createdById: string;
}

/**
 * A decision's execution lease (schema version 2): at most one per decision, keyed by its id.
 * Times are epoch milliseconds kept as BSON doubles, exact for every safe integer.
 */
export interface LeaseDocument {
  _id: string;
  generation: number;
  requestedSeq: number;
  owner: string;
  expiresAt: number;
}

/** The schema version and the feed counter. */
export type MetaDocument = { _id: 'schema'; version: number } | { _id: 'feed'; position: number };

export interface StoreCollections {
  readonly db: Db;
  readonly events: Collection<EventDocument>;
  readonly decisions: Collection<DecisionDocument>;
  readonly idempotency: Collection<IdempotencyDocument>;
  readonly routerResults: Collection<RouterResultDocument>;
  readonly templates: Collection<TemplateDocument>;
  readonly meta: Collection<MetaDocument>;
  readonly leases: Collection<LeaseDocument>;
}

export function storeCollections(db: Db): StoreCollections {
  return {
    db,
    events: db.collection<EventDocument>('events'),
    decisions: db.collection<DecisionDocument>('decisions'),
    idempotency: db.collection<IdempotencyDocument>('idempotency_keys'),
    routerResults: db.collection<RouterResultDocument>('router_results'),
    templates: db.collection<TemplateDocument>('templates'),
    meta: db.collection<MetaDocument>('meta'),
    leases: db.collection<LeaseDocument>('execution_leases'),
  };
}
