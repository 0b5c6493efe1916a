import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NexusError } from '@nexus-control/core';
import { faultToError } from './faultToError.js';
import {
  REFUSED,
  type FromWorker,
  type Op,
  type Requests,
  type Results,
  type RowsText,
  type ToWorker,
  type WorkerOptions,
} from './protocol.js';

/** What a write that holds its transaction open asks the caller, who answers by settling. */
export type AskHandler = (ask: { readonly positions?: readonly number[]; readonly generation?: number }) => Promise<void>;

export interface WorkerConnection {
  /** `onPart` receives the rows of a long read that arrive ahead of its result. */
  call<K extends Op>(op: K, args: Requests[K], onAsk?: AskHandler, onPart?: (rows: RowsText) => void): Promise<Results[K]>;
  /** Waits for the worker to finish what it holds, fail what waits, and close its connections. */
  close(): Promise<void>;
  /** Resolves once the worker has opened the database (or failed to). */
  readonly opened: Promise<void>;
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: unknown): void;
  onAsk?: AskHandler;
  onPart?: (rows: RowsText) => void;
  /** The caller's reason for refusing a held write; the rejection carries it. */
  refusal?: { readonly reason: unknown };
}

/**
 * From the TypeScript sources (tests, development) the worker's modules need a loader:
 * tsx's require hook, in the worker itself (loader hooks of this thread do not reach it).
 * Built, the worker is plain JavaScript next to this module.
 */
function spawn(options: WorkerOptions): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./sqliteWorker.js', here), { workerData: options });
  const entry = fileURLToPath(new URL('./sqliteWorker.ts', here));
  let tsx: string;
  try {
    tsx = createRequire(here).resolve('tsx/cjs/api');
  } catch (error) {
    throw new NexusError('INTERNAL', 'running the SQLite store from its TypeScript sources needs the tsx package', {}, { cause: error });
  }
  const bootstrap = `require(${JSON.stringify(tsx)}).register();require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

/**
 * Threads whose store closed, kept to serve the next store this process opens: starting a
 * thread (and, from the sources, loading its modules) costs far more than opening a file.
 */
const idle: Worker[] = [];
const MAX_IDLE = 4;

function acquire(options: WorkerOptions): Worker {
  const reused = idle.pop();
  if (reused !== undefined) {
    reused.postMessage([{ kind: 'open', options } satisfies ToWorker]);
    return reused;
  }
  const worker = spawn(options);
  worker.once('exit', () => {
    const at = idle.indexOf(worker);
    if (at >= 0) idle.splice(at, 1);
  });
  return worker;
}

/** Starts (or reuses) the worker thread that owns the store's connections and talks to it. */
export function startWorker(options: WorkerOptions): WorkerConnection {
  const worker = acquire(options);
  const location = options.path;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let broken: unknown;
  let closing: Promise<void> | undefined;
  let onClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    onClosed = resolve;
  });
  let onOpened!: () => void;
  const opened = new Promise<void>((resolve) => {
    onOpened = resolve;
  });
  // An idle store does not keep the process alive; one with calls in flight does.
  worker.unref();

  const unavailable = (why: string) => new NexusError('STORE_UNAVAILABLE', `${location}: ${why}`, { location });

  function settle(id: number): Pending | undefined {
    const entry = pending.get(id);
    if (entry === undefined) return undefined;
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return entry;
  }

  function failAll(error: unknown): void {
    for (const id of [...pending.keys()]) settle(id)!.reject(error);
  }

  // The calls of one event-loop iteration travel together as one message, sent once the
  // iteration's I/O callbacks have run: the appends of requests that arrived together wake the
  // thread once and commit together (a busy server's loop handles several requests per
  // iteration; with one message per request each woke the thread and most committed alone).
  let outbox: ToWorker[] = [];
  const flush = () => {
    const messages = outbox;
    outbox = [];
    if (!detached) worker.postMessage(messages);
  };
  /** Set once the store closed: the thread may serve another store, which must hear nothing of this one. */
  let detached = false;
  function post(message: ToWorker): void {
    if (detached) return;
    if (outbox.length === 0) setImmediate(flush);
    outbox.push(message);
  }

  const onMessage = (messages: FromWorker[]) => {
    for (const message of messages) receive(message);
  };
  worker.on('message', onMessage);

  function receive(message: FromWorker): void {
    switch (message.kind) {
      case 'ready':
        onOpened();
        break;
      case 'broken':
        broken = faultToError(message.fault);
        onOpened();
        failAll(broken);
        break;
      case 'done':
        settle(message.id)?.resolve(message.result);
        break;
      case 'part':
        pending.get(message.id)?.onPart?.(message.rows);
        break;
      case 'failed': {
        const entry = settle(message.id);
        if (entry === undefined) break;
        if (message.fault.code === REFUSED && entry.refusal !== undefined) entry.reject(entry.refusal.reason);
        else entry.reject(faultToError(message.fault));
        break;
      }
      case 'ask': {
        const entry = pending.get(message.id);
        const id = message.id;
        if (entry?.onAsk === undefined) {
          post({ kind: 'verdict', id, commit: false });
          break;
        }
        const { positions, generation } = message;
        entry.onAsk({ ...(positions === undefined ? {} : { positions }), ...(generation === undefined ? {} : { generation }) }).then(
          () => post({ kind: 'verdict', id, commit: true }),
          (reason: unknown) => {
            entry.refusal = { reason };
            post({ kind: 'verdict', id, commit: false });
          },
        );
        break;
      }
      case 'closed':
        onClosed();
        break;
    }
  }
  let crashed = false;
  const onError = (error: Error) => {
    crashed = true;
    broken = unavailable(`the store's worker thread failed: ${error.message}`);
    failAll(broken);
  };
  const onExit = () => {
    crashed = true;
    broken ??= unavailable('the store is closed');
    onOpened();
    onClosed();
    failAll(broken);
  };
  worker.on('error', onError);
  worker.on('exit', onExit);

  return {
    opened,
    call<K extends Op>(op: K, args: Requests[K], onAsk?: AskHandler, onPart?: (rows: RowsText) => void): Promise<Results[K]> {
      if (closing !== undefined) return Promise.reject(unavailable('the store is closed'));
      if (broken !== undefined) return Promise.reject(broken);
      const id = nextId++;
      return new Promise<Results[K]>((resolve, reject) => {
        if (pending.size === 0) worker.ref();
        pending.set(id, {
          resolve: resolve as (result: unknown) => void,
          reject,
          ...(onAsk === undefined ? {} : { onAsk }),
          ...(onPart === undefined ? {} : { onPart }),
        });
        post({ kind: 'call', id, op, args });
      });
    },
    close() {
      closing ??= (async () => {
        worker.ref();
        post({ kind: 'close' });
        await closed;
        failAll(unavailable('the store is closed'));
        detached = true;
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (!crashed && broken === undefined && idle.length < MAX_IDLE) {
          worker.unref();
          idle.push(worker);
        } else {
          await worker.terminate();
        }
      })();
      return closing;
    },
  };
}
