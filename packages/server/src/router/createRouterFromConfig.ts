import { createHttpAdapter, createSubprocessAdapter } from '@nexus-control/adapters';
import { createNullAdapter, createRouter, type Router, type RouterAdapter } from '@nexus-control/core';
import type { AdapterConfig } from '../config/ServerConfig.js';
import { currentTraceparent } from '../observability/callScope.js';

export function createAdapter(config: AdapterConfig): RouterAdapter {
  switch (config.type) {
    case 'null':
      return createNullAdapter(config.id);
    case 'subprocess':
      return createSubprocessAdapter({ ...config, traceparent: currentTraceparent });
    case 'http':
      return createHttpAdapter({ ...config, traceparent: currentTraceparent });
  }
}

/** The configured adapters, plus the built-in `null` adapter unless the configuration names its own `null`. */
export function createRouterFromConfig(adapters: readonly AdapterConfig[]): Router {
  const configured = adapters.map(createAdapter);
  const builtIn = configured.some((adapter) => adapter.id === 'null') ? [] : [createNullAdapter()];
  return createRouter([...builtIn, ...configured]);
}
