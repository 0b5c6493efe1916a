// A child process that runs one document task (documentTasks.ts), answers, and exits.
// The sources are TypeScript, run through tsx as everywhere else (bin/nexus-control.js).
import { register } from 'tsx/esm/api';

register();
const { runTaskMessage } = await import('./runTaskMessage.ts');
process.once('message', async (message) => {
  const outcome = await runTaskMessage(message);
  process.send(outcome, () => process.exit(0));
});
process.send({ kind: 'ready' });
