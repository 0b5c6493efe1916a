// A child process that runs one document task (documentTasks.ts), answers, and exits.
import { runTaskMessage, type TaskMessage } from './runTaskMessage.js';

function send(message: unknown, then: () => void = () => {}): void {
  if (process.send === undefined) throw new Error('the document process must be started with an IPC channel');
  process.send(message, then);
}

process.once('message', (message: TaskMessage) => {
  void runTaskMessage(message).then((outcome) => send(outcome, () => process.exit(0)));
});
send({ kind: 'ready' });
