import { ConcurrencyConflictError, errorCodes, NexusError, type ErrorCode, type LogVersion } from '@nexus-control/core';
import type { FaultData } from './storeFault.js';

/** The domain's typed error for a fault raised on the connection's side. */
export function faultToError(fault: FaultData): NexusError {
  const { code, message, details } = fault;
  if (code === 'CONCURRENCY_CONFLICT') {
    return new ConcurrencyConflictError(
      details['decisionId'] as string,
      details['expected'] as LogVersion,
      details['actual'] as LogVersion | undefined,
    );
  }
  return new NexusError(isErrorCode(code) ? code : 'INTERNAL', message, details);
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(errorCodes, code);
}
