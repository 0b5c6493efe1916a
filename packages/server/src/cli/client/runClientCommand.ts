import { isNexusClientError } from '@nexus-control/client';
import type { CliIo } from '../CliIo.js';
import { reportError } from '../reportError.js';
import { UsageError } from './UsageError.js';

/** The one line every failure prints on stderr. */
export function errorLine(code: string, message: string): string {
  return `error [${code}]: ${message}`;
}

/**
 * Runs a client command body: server errors print `error [CODE]: message` and exit 1
 * (CODE is the domain code, or the gRPC status name for transport failures such as
 * UNAVAILABLE or DEADLINE_EXCEEDED); usage errors exit 2.
 */
export async function runClientCommand(command: string, io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      reportError(io, 'USAGE', error.message, `run 'nexus-control help ${command}' for usage`);
      return 2;
    }
    if (isNexusClientError(error)) {
      reportError(io, error.code, error.message);
      return 1;
    }
    reportError(io, 'INTERNAL', error instanceof Error ? error.message : String(error));
    return 1;
  }
}
