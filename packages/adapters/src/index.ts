export { createSubprocessAdapter, type SubprocessAdapterOptions } from './createSubprocessAdapter.js';
export { createHttpAdapter, type HttpAdapterOptions } from './createHttpAdapter.js';
export { DEFAULT_ADAPTER_CAPABILITIES } from './defaultCapabilities.js';
