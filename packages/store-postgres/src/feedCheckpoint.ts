import { FEED_START, invalidCheckpoint, type Checkpoint } from '@nexus-control/core';

/*
 * A feed place is (transaction id, position): the 64-bit id of the transaction that wrote the
 * event (`xid8`) and the event's number from a sequence. Transaction ids of committed events
 * are only read once they are below the oldest transaction still running, so a transaction
 * that committed late can never land behind a place a reader has already passed. The token
 * is both numbers in decimal: `<xid>.<position>`.
 */
export interface FeedPlace {
  readonly xid: bigint;
  readonly position: bigint;
}

export const START_PLACE: FeedPlace = Object.freeze({ xid: 0n, position: 0n });

const TOKEN = /^(0|[1-9][0-9]{0,19})\.(0|[1-9][0-9]{0,18})$/;
const MAX_XID = (1n << 64n) - 1n;
const MAX_POSITION = (1n << 63n) - 1n;

export function encodeCheckpoint(place: FeedPlace): Checkpoint {
  return place.xid === 0n && place.position === 0n ? FEED_START : `${place.xid}.${place.position}`;
}

/** The place a token stands for; INVALID_ARGUMENT for anything this store did not issue. */
export function decodeCheckpoint(token: Checkpoint | undefined): FeedPlace {
  if (token === undefined || token === FEED_START) return START_PLACE;
  const invalid = () => invalidCheckpoint(String(token));
  if (typeof token !== 'string') throw invalid();
  const match = TOKEN.exec(token);
  if (match === null) throw invalid();
  const xid = BigInt(match[1]!);
  const position = BigInt(match[2]!);
  if (xid > MAX_XID || position > MAX_POSITION || xid === 0n) throw invalid();
  return { xid, position };
}

export function comparePlaces(a: FeedPlace, b: FeedPlace): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return 0;
}
