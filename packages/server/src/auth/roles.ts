/** What a caller may do; `admin` may do everything. */
export const ROLES = ['requester', 'approver', 'executor', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
