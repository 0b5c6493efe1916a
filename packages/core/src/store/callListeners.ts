/**
 * Tells each listener that the log has grown. A listener's failure is its own: the append has
 * already committed, and the other listeners are still told.
 */
export function callListeners(listeners: Iterable<() => void>): void {
  for (const listener of listeners) {
    try {
      listener();
    } catch {
      // Ignored on purpose, see above.
    }
  }
}
