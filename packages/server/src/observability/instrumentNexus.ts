import type { NexusControl } from '@nexus-control/core';
import type { Tracing } from './Tracing.js';

const COMMANDS = [
  'request',
  'approve',
  'revoke',
  'execute',
  'createTemplate',
  'getTemplate',
  'listTemplates',
  'getDecision',
  'lifecycle',
  'inspect',
  'events',
  'listDecisions',
] as const;

/** Puts each facade call in a `command.<name>` span (the level between the RPC and the store calls). */
export function instrumentNexus(nexus: NexusControl, tracing: Tracing): NexusControl {
  if (!tracing.enabled) return nexus;
  const wrapped: Record<string, unknown> = {};
  for (const key of Object.keys(nexus)) {
    const value = (nexus as unknown as Record<string, unknown>)[key];
    wrapped[key] = typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(nexus) : value;
  }
  for (const command of COMMANDS) {
    const original = (nexus[command] as (...args: unknown[]) => Promise<unknown>).bind(nexus);
    const decisionId = (args: unknown[]): Record<string, string> =>
      typeof args[0] === 'string' && command !== 'request' && !command.endsWith('Template') ? { 'nexus.decision_id': args[0] } : {};
    wrapped[command] = (...args: unknown[]) => tracing.inSpan(`command.${command}`, decisionId(args), () => original(...args));
  }
  wrapped['watch'] = nexus.watch.bind(nexus);
  return wrapped as unknown as NexusControl;
}
