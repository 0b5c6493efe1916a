/** What an external adapter may do when its configuration does not say: apply changes, honour timeouts, reach outside. */
export const DEFAULT_ADAPTER_CAPABILITIES: readonly string[] = Object.freeze(['apply', 'timeout', 'external']);
