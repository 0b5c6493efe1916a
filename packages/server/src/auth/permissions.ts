import type { Role } from './roles.js';

/** Any authenticated caller, whatever its roles. */
export const ANY_CALLER = 'any' as const;

/**
 * THE role → RPC table. `admin` may call everything; `any` means every authenticated
 * caller. Methods missing here are refused (a new RPC must be placed in the table).
 */
export const METHOD_PERMISSIONS: Readonly<Record<string, readonly Role[] | typeof ANY_CALLER>> = {
  'DecisionService/CreateDecision': ['requester'],
  'DecisionService/GetDecision': ANY_CALLER,
  'DecisionService/ListDecisions': ANY_CALLER,
  'DecisionService/ListEvents': ANY_CALLER,
  'DecisionService/InspectDecision': ANY_CALLER,
  'DecisionService/WatchDecisions': ANY_CALLER,
  'ApprovalService/Approve': ['approver'],
  'ApprovalService/Revoke': ['approver'],
  'ExecutionService/Execute': ['executor'],
  'ExecutionService/FailExecution': ['admin'],
  'ExecutionService/ListAdapters': ANY_CALLER,
  'TemplateService/CreateTemplate': ['admin'],
  'TemplateService/GetTemplate': ANY_CALLER,
  'TemplateService/ListTemplates': ANY_CALLER,
  'BundleService/ExportBundle': ['auditor'],
  'BundleService/ImportBundle': ['admin'],
  'AuditService/ExportAuditPackage': ['auditor'],
  'AuditService/VerifyAuditPackage': ANY_CALLER,
  'AuditService/AttachAttestation': ['auditor'],
  'DiagnosticsService/Echo': ANY_CALLER,
  'DiagnosticsService/WhoAmI': ANY_CALLER,
};

/** Whether a caller with these roles may call `method` (`Service/Method`). */
export function isAllowed(method: string, roles: ReadonlySet<Role>): boolean {
  const allowed = METHOD_PERMISSIONS[method];
  if (allowed === undefined) return false;
  if (allowed === ANY_CALLER || roles.has('admin')) return true;
  return allowed.some((role) => roles.has(role));
}

/** The roles that grant `method`, for error messages. */
export function rolesFor(method: string): readonly string[] {
  const allowed = METHOD_PERMISSIONS[method];
  if (allowed === undefined) return [];
  return allowed === ANY_CALLER ? ['any'] : [...allowed, 'admin'];
}
