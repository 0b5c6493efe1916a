import type { NexusControl } from '@nexus-control/core';
import type { Logger } from './logging/createLogger.js';
import type { ServerMetrics } from './observability/createMetrics.js';

export interface RecoveryLoop {
  /** Stops sweeping; resolves once a sweep under way has finished. */
  stop(): Promise<void>;
}

/**
 * Sweeps for executions whose lease lapsed (their server died) at start-up and every
 * `sweepMs`, closing each with EXECUTION_FAILED / EXECUTION_INTERRUPTED. Every replica runs
 * one; the store lets exactly one of them take over each lapsed run.
 */
export function startRecoveryLoop(nexus: NexusControl, sweepMs: number, logger: Logger, metrics?: ServerMetrics): RecoveryLoop {
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const sweep = async (): Promise<void> => {
    try {
      const report = await nexus.recoverExecutions();
      metrics?.executionsRecovered.inc(report.recovered.length);
      metrics?.recoveryFailures.inc(report.failures.length);
      for (const decisionId of report.recovered) {
        logger.warn('recovered an interrupted execution: its server stopped renewing the lease; recorded EXECUTION_FAILED', {
          decision_id: decisionId,
          error_code: 'EXECUTION_INTERRUPTED',
        });
      }
      for (const failure of report.failures) {
        logger.error('could not recover an interrupted execution; will retry', { decision_id: failure.decisionId, error: failure.message });
      }
    } catch (error) {
      logger.error('execution recovery sweep failed; will retry', { error: (error as Error).message });
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = sweep().finally(schedule);
    }, sweepMs);
    timer.unref();
  };
  current = sweep().finally(schedule);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current.catch(() => undefined);
    },
  };
}
