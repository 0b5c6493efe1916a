export * from './types.js';
export { buildBundle, type BundleSourceEvent } from './buildBundle.js';
export { bundleDigest } from './bundleDigest.js';
export { exportBundle, type ExportBundleOptions } from './exportBundle.js';
export { importBundle, type ImportBundleOptions } from './importBundle.js';
export { verifyBundle } from './verifyBundle.js';
export { routerLinkDigest, provenanceId } from './digests.js';
