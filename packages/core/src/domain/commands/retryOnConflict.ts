import { isConcurrencyConflict } from '../../errors/NexusError.js';

/**
 * Re-runs a command that lost an optimistic race. Each attempt re-reads and re-validates,
 * so a retry can still fail on the new state (e.g. a concurrent revoke).
 */
export async function retryOnConflict<T>(attempts: number, attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isConcurrencyConflict(error) || i + 1 >= attempts) throw error;
      // Jitter spreads out writers that collided so they do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** i)));
    }
  }
}
