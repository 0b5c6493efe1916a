// The worker thread that owns a store's SQLite connections (see createWorkerStore).
import { parentPort, workerData } from 'node:worker_threads';
import { createWorkerStore, type WorkerStore } from './createWorkerStore.js';
import type { FromWorker, Op, ToWorker, WorkerOptions } from './protocol.js';
import { faultDataOf } from './storeFault.js';

const port = parentPort;
if (port === null) throw new Error('sqliteWorker runs in a worker thread');
const send = (message: FromWorker) => port.postMessage(message);

let store: WorkerStore | undefined;
try {
  store = createWorkerStore(workerData as WorkerOptions, send);
  send({ kind: 'ready' });
} catch (error) {
  send({ kind: 'broken', fault: faultDataOf(error) });
}

port.on('message', (message: ToWorker) => {
  if (store === undefined) {
    if (message.kind === 'close') {
      send({ kind: 'closed' });
      port.close();
    }
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
      store.close().then(
        () => {
          send({ kind: 'closed' });
          port.close();
        },
        (error: unknown) => {
          send({ kind: 'broken', fault: faultDataOf(error) });
          send({ kind: 'closed' });
          port.close();
        },
      );
      break;
  }
});
