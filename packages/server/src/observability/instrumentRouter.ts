import type { Router, RouterAdapter } from '@nexus-control/core';
import type { Tracing } from './Tracing.js';

/** Puts each adapter run in an `adapter.run` span; the adapter passes that span's context on. */
export function instrumentRouter(router: Router, tracing: Tracing): Router {
  if (!tracing.enabled) return router;
  const wrap = (adapter: RouterAdapter): RouterAdapter => {
    // An adapter's runs share one of two attribute sets: frozen, their text is written once.
    const dryRun = Object.freeze({ 'nexus.adapter_id': adapter.id, 'nexus.dry_run': true });
    const live = Object.freeze({ 'nexus.adapter_id': adapter.id, 'nexus.dry_run': false });
    return {
      id: adapter.id,
      capabilities: adapter.capabilities,
      ...(adapter.sideEffects === undefined ? {} : { sideEffects: adapter.sideEffects }),
      run: (request, options) => tracing.inSpan('adapter.run', request.dry_run ? dryRun : live, () => adapter.run(request, options)),
    };
  };
  const adapters = new Map(router.adapters().map((adapter) => [adapter.id, wrap(adapter)]));
  return {
    adapter: (id) => adapters.get(id) ?? (router.adapter(id) ? wrap(router.adapter(id)!) : undefined),
    adapters: () => [...adapters.values()],
  };
}
