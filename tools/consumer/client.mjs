// (c) A program that calls a running server with the published client.
import { createNexusClient } from '@nexus-control/client';

const client = createNexusClient({ address: process.argv[2] });
try {
  const { decision } = await client.createDecision({ goal: 'called from outside the monorepo' });
  const read = await client.getDecision({ decisionId: decision.decisionId });
  if (read.decision?.goal !== 'called from outside the monorepo') throw new Error('the server returned another decision');
  console.log(`server at ${process.argv[2]} created and returned ${decision.decisionId}`);
} finally {
  client.close();
}
