import type { ChangeStream, Collection } from 'mongodb';
import { callListeners } from '@nexus-control/core';
import type { MetaDocument } from './collections.js';

export interface AppendNotifier {
  subscribe(listener: () => void): () => void;
  /** An append of this handle committed. */
  notifyLocal(): void;
  close(): Promise<void>;
}

export interface AppendNotifierOptions {
  readonly meta: Collection<MetaDocument>;
  readonly pollIntervalMs: number;
  /** False: never open a change stream, poll. */
  readonly changeStreams: boolean;
  readonly changeStreamMaxAwaitMs: number;
  /** The current feed position, for polling. */
  readonly readHead: () => Promise<number>;
}

/** After a change stream fails, polling runs this long before a new stream is tried. */
const STREAM_RETRY_MS = 10_000;

/**
 * Wakes `onAppend` listeners when any process appends: every append updates the feed counter
 * document in its transaction, so a change stream on that one document sees each commit.
 * Where a change stream cannot be opened or breaks, the head is polled instead, and a new
 * stream is tried now and then. Local appends wake listeners directly. Nothing runs while
 * nobody listens.
 */
export function createAppendNotifier(options: AppendNotifierOptions): AppendNotifier {
  const listeners = new Set<{ readonly listener: () => void }>();
  let stream: ChangeStream | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let lastHead: number | undefined;
  let streamRetryAt = 0;
  let closed = false;

  function wake(): void {
    callListeners([...listeners].map(({ listener }) => listener));
  }

  function startStream(): void {
    if (stream !== undefined || closed || listeners.size === 0) return;
    if (!options.changeStreams) return startPolling();
    try {
      const opened = options.meta.watch([{ $match: { 'documentKey._id': 'feed' } }], {
        maxAwaitTimeMS: options.changeStreamMaxAwaitMs,
      });
      stream = opened;
      opened.on('change', () => wake());
      opened.on('error', () => {
        if (stream === opened) stream = undefined;
        void opened.close().catch(() => undefined);
        streamRetryAt = Date.now() + STREAM_RETRY_MS;
        startPolling();
      });
    } catch {
      streamRetryAt = Date.now() + STREAM_RETRY_MS;
      startPolling();
    }
  }

  async function poll(): Promise<void> {
    try {
      const head = await options.readHead();
      if (lastHead !== undefined && head !== lastHead) wake();
      lastHead = head;
    } catch {
      // The server is away; the next poll tries again.
    }
    if (options.changeStreams && Date.now() >= streamRetryAt && listeners.size > 0 && !closed) {
      stopPolling();
      startStream();
    }
  }

  function startPolling(): void {
    if (pollTimer !== undefined || closed || listeners.size === 0) return;
    pollTimer = setInterval(() => void poll(), options.pollIntervalMs);
    pollTimer.unref();
  }

  function stopPolling(): void {
    if (pollTimer !== undefined) clearInterval(pollTimer);
    pollTimer = undefined;
  }

  async function stopAll(): Promise<void> {
    stopPolling();
    const open = stream;
    stream = undefined;
    if (open !== undefined) await open.close().catch(() => undefined);
  }

  return {
    subscribe(listener) {
      const entry = { listener };
      listeners.add(entry);
      if (stream === undefined && pollTimer === undefined) {
        if (Date.now() >= streamRetryAt) startStream();
        else startPolling();
      }
      return () => {
        listeners.delete(entry);
        if (listeners.size === 0) void stopAll();
      };
    },
    notifyLocal() {
      if (listeners.size > 0) wake();
    },
    async close() {
      closed = true;
      listeners.clear();
      await stopAll();
    },
  };
}
