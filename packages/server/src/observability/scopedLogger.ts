import type { LogFields, Logger } from '../logging/createLogger.js';
import { currentScope } from './callScope.js';

/** Adds the current call's `request_id` and `trace_id` to every line written while it runs. */
export function scopedLogger(logger: Logger): Logger {
  const withCall =
    (write: (msg: string, fields?: LogFields) => void) =>
    (msg: string, fields: LogFields = {}) => {
      const call = currentScope()?.call;
      if (!call) return write(msg, fields);
      write(msg, { request_id: call.requestId, trace_id: call.traceId ?? null, ...fields });
    };
  return {
    debug: withCall(logger.debug),
    info: withCall(logger.info),
    warn: withCall(logger.warn),
    error: withCall(logger.error),
    announce: withCall(logger.announce),
  };
}
