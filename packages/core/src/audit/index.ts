export { exportAuditPackage, type ExportAuditPackageOptions } from './exportAuditPackage.js';
export { verifyAuditPackage, type VerifyAuditPackageOptions } from './verifyAuditPackage.js';
export { buildRouterBundle, routerBundleContentDigest } from './routerBundle.js';
export { bindingDigest } from '../bundle/digests.js';
export type {
  AuditBinding,
  AuditPackage,
  AuditRouterSection,
  RouterBundle,
  VerificationCheck,
  VerificationReport,
} from '../bundle/types.js';
