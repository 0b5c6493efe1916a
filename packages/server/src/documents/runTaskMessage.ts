import { isNexusError, type ErrorCode } from '@nexus-control/core';
import { documentTasks, type DocumentTasks } from './documentTasks.js';

export type TaskName = keyof DocumentTasks;

export interface TaskMessage<K extends TaskName = TaskName> {
  readonly task: K;
  readonly input: Parameters<DocumentTasks[K]>[0];
}

/** A task's outcome in a form that crosses a thread boundary: a value, a domain failure, or a crash. */
export type TaskOutcome =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'failure'; readonly code: ErrorCode; readonly message: string; readonly details: Record<string, unknown> }
  | { readonly kind: 'crash'; readonly message: string };

/** Structured clone keeps plain data only: details go as JSON-safe values. */
function plainDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(details, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) ?? '{}',
  ) as Record<string, unknown>;
}

export async function runTaskMessage(message: TaskMessage): Promise<TaskOutcome> {
  try {
    const run = documentTasks[message.task] as (input: unknown) => unknown;
    return { kind: 'value', value: await run(message.input) };
  } catch (error) {
    if (isNexusError(error)) return { kind: 'failure', code: error.code, message: error.message, details: plainDetails(error.details) };
    return { kind: 'crash', message: error instanceof Error ? error.message : String(error) };
  }
}
