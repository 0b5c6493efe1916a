import { Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, LOCAL_IDENTITY, sha256OfToken } from '../src/auth/createAuthenticator.js';
import { isAllowed, METHOD_PERMISSIONS } from '../src/auth/permissions.js';
import { ROLES, type Role } from '../src/auth/roles.js';
import type { AuthConfig } from '../src/config/ServerConfig.js';

const auth: AuthConfig = {
  tokens: [
    { sha256: sha256OfToken('alice-token'), actor: { type: 'human', id: 'alice' }, roles: ['requester'] },
    { sha256: sha256OfToken('bot-token'), actor: { type: 'system', id: 'bot' }, roles: ['executor'] },
  ],
  mtls: {
    ca: Buffer.from(''),
    cert: Buffer.from(''),
    key: Buffer.from(''),
    clients: [{ subject: { CN: 'runner' }, actor: { type: 'system', id: 'runner' }, roles: ['executor'] }],
  },
};

function metadata(authorization?: string | string[]): Metadata {
  const md = new Metadata();
  for (const value of [authorization ?? []].flat()) md.add('authorization', value);
  return md;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('authentication', () => {
  const authenticate = createAuthenticator(auth);

  it('a known bearer token gives its actor and roles', () => {
    const identity = authenticate({ metadata: metadata('Bearer alice-token') });
    expect(identity.actor).toEqual({ type: 'human', id: 'alice' });
    expect([...identity.roles]).toEqual(['requester']);
    expect(identity.via).toBe('token');
    expect(authenticate({ metadata: metadata('bearer bot-token') }).actor).toEqual({ type: 'system', id: 'bot' });
  });

  it('no credentials, an unknown token, a malformed header or two headers are UNAUTHENTICATED', () => {
    expect(codeOf(() => authenticate({ metadata: metadata() }))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => authenticate({ metadata: metadata('Bearer wrong') }))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => authenticate({ metadata: metadata('Basic YWxpY2U6cHc=') }))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => authenticate({ metadata: metadata(['Bearer alice-token', 'Bearer bot-token']) }))).toBe('UNAUTHENTICATED');
    // the hash itself is not a token
    expect(codeOf(() => authenticate({ metadata: metadata(`Bearer ${sha256OfToken('alice-token')}`) }))).toBe('UNAUTHENTICATED');
  });

  it('a client certificate maps by subject; an unmapped certificate is UNAUTHENTICATED', () => {
    const cert = (subject: Record<string, string>) => ({ subject, fingerprint256: 'AA:BB' }) as unknown as PeerCertificate;
    expect(authenticate({ metadata: metadata(), peerCertificate: cert({ CN: 'runner', O: 'x' }) })).toMatchObject({
      actor: { id: 'runner' },
      via: 'mtls',
    });
    expect(codeOf(() => authenticate({ metadata: metadata(), peerCertificate: cert({ CN: 'stranger' }) }))).toBe('UNAUTHENTICATED');
  });

  it('without auth configured every caller is the local admin', () => {
    expect(createAuthenticator(undefined)({ metadata: metadata() })).toBe(LOCAL_IDENTITY);
    expect(LOCAL_IDENTITY.actor).toEqual({ type: 'human', id: 'local' });
    expect([...LOCAL_IDENTITY.roles]).toEqual([...ROLES]);
  });
});

describe('role → RPC permissions', () => {
  const roles = (...r: Role[]) => new Set<Role>(r);

  it('commands need their role; admin may do everything; reads are open to every caller', () => {
    expect(isAllowed('DecisionService/CreateDecision', roles('requester'))).toBe(true);
    expect(isAllowed('DecisionService/CreateDecision', roles('approver'))).toBe(false);
    expect(isAllowed('ApprovalService/Approve', roles('approver'))).toBe(true);
    expect(isAllowed('ApprovalService/Approve', roles('requester', 'executor'))).toBe(false);
    expect(isAllowed('ExecutionService/Execute', roles('executor'))).toBe(true);
    expect(isAllowed('BundleService/ImportBundle', roles('auditor'))).toBe(false);
    expect(isAllowed('AuditService/ExportAuditPackage', roles('auditor'))).toBe(true);
    expect(isAllowed('DecisionService/GetDecision', roles())).toBe(true);
    for (const method of Object.keys(METHOD_PERMISSIONS)) expect(isAllowed(method, roles('admin')), method).toBe(true);
  });

  it('a method missing from the table is refused, even to admin', () => {
    expect(isAllowed('DecisionService/DeleteEverything', roles('admin'))).toBe(false);
  });
});
