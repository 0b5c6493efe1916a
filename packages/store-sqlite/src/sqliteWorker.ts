// The worker thread that owns a store's SQLite connections (see createWorkerStore). After
// the store closes, the thread may serve the next store opened in this process ('open').
import { parentPort, workerData } from 'node:worker_threads';
import { createWorkerStore, type WorkerStore } from './createWorkerStore.js';
import type { FromWorker, Op, ToWorker, WorkerOptions } from './protocol.js';
import { faultDataOf } from './storeFault.js';

const port = parentPort;
if (port === null) throw new Error('sqliteWorker runs in a worker thread');
// Replies of one turn (a group commit's, say) travel together as one message.
let outbox: FromWorker[] = [];
const flush = () => {
  if (outbox.length === 0) return;
  const messages = outbox;
  outbox = [];
  port.postMessage(messages);
};
const send = (message: FromWorker) => {
  if (outbox.length === 0) queueMicrotask(flush);
  outbox.push(message);
};

/** Goes out at once, ahead of the turn's other messages (a part of a long read). */
const sendNow = (message: FromWorker) => {
  flush();
  port.postMessage([message]);
};

let store: WorkerStore | undefined;
/** Set while a store is open or closing: calls go to it. */
let serving = false;

function open(options: WorkerOptions): void {
  serving = true;
  try {
    store = createWorkerStore(options, send, sendNow);
    send({ kind: 'ready' });
  } catch (error) {
    send({ kind: 'broken', fault: faultDataOf(error) });
  }
}

function closed(): void {
  store = undefined;
  serving = false;
  send({ kind: 'closed' });
}

open(workerData as WorkerOptions);

port.on('message', (messages: ToWorker[]) => {
  for (const message of messages) handle(message);
});

function handle(message: ToWorker): void {
  if (message.kind === 'open') {
    if (!serving) open(message.options);
    return;
  }
  if (store === undefined) {
    if (message.kind === 'close') closed();
    return;
  }
  switch (message.kind) {
    case 'call':
      store.call(message.id, message.op as Op, message.args);
      break;
    case 'verdict':
      store.verdict(message.id, message.commit);
      break;
    case 'close':
      store.close().then(closed, (error: unknown) => {
        send({ kind: 'broken', fault: faultDataOf(error) });
        closed();
      });
      break;
  }
}
