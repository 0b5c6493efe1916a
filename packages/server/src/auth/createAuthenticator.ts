import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { AUTHORIZATION_HEADER } from '@nexus-control/client';
import { NexusError, type Actor } from '@nexus-control/core';
import type { PeerCertificate } from 'node:tls';
import type { AuthConfig, CertificateIdentity } from '../config/ServerConfig.js';
import { ROLES, type Role } from './roles.js';

/** Who a caller is, as established from its credentials. */
export interface Identity {
  readonly actor: Actor;
  readonly roles: ReadonlySet<Role>;
  readonly via: 'token' | 'mtls' | 'none';
}

/** What the authenticator sees of a call. */
export interface CallCredentials {
  readonly metadata: Metadata;
  readonly peerCertificate?: PeerCertificate | undefined;
}

export type Authenticator = (call: CallCredentials) => Identity;

/** Without authentication configured every caller is this local administrator (loopback only). */
export const LOCAL_IDENTITY: Identity = Object.freeze({
  actor: Object.freeze({ type: 'human', id: 'local' }) as Actor,
  roles: new Set<Role>(ROLES),
  via: 'none',
});

export function sha256OfToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function unauthenticated(message: string): NexusError {
  return new NexusError('UNAUTHENTICATED', message);
}

function subjectMatches(expected: Readonly<Record<string, string>>, actual: PeerCertificate['subject'] | undefined): boolean {
  if (!actual) return false;
  return Object.entries(expected).every(([attribute, value]) => {
    const present = (actual as unknown as Record<string, string | string[] | undefined>)[attribute];
    return Array.isArray(present) ? present.length === 1 && present[0] === value : present === value;
  });
}

function certificateMatches(client: CertificateIdentity, certificate: PeerCertificate): boolean {
  if (client.fingerprint256 !== undefined && client.fingerprint256 !== certificate.fingerprint256?.toUpperCase()) return false;
  if (client.subject !== undefined && !subjectMatches(client.subject, certificate.subject)) return false;
  return true;
}

/**
 * Maps a call's credentials to an identity. A bearer token wins over a client certificate;
 * token hashes are compared in constant time against every configured entry.
 */
export function createAuthenticator(auth: AuthConfig | undefined): Authenticator {
  if (!auth) return () => LOCAL_IDENTITY;
  const tokens = auth.tokens.map((entry) => ({
    hash: Buffer.from(entry.sha256, 'hex'),
    identity: { actor: entry.actor, roles: new Set(entry.roles), via: 'token' } satisfies Identity,
  }));
  const clients = auth.mtls?.clients ?? [];

  return ({ metadata, peerCertificate }) => {
    const headers = metadata.get(AUTHORIZATION_HEADER);
    if (headers.length > 1) throw unauthenticated('more than one authorization header');
    const header = headers[0];
    if (header !== undefined) {
      const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!match) throw unauthenticated("the authorization header must be 'Bearer <token>'");
      const presented = createHash('sha256')
        .update(match[1] as string, 'utf8')
        .digest();
      let found: Identity | undefined;
      for (const entry of tokens) {
        if (timingSafeEqual(presented, entry.hash) && found === undefined) found = entry.identity;
      }
      if (!found) throw unauthenticated('unknown token');
      return found;
    }
    if (peerCertificate && Object.keys(peerCertificate).length > 0) {
      const client = clients.find((candidate) => certificateMatches(candidate, peerCertificate));
      if (!client) throw unauthenticated('the client certificate is not mapped to an actor');
      return { actor: client.actor, roles: new Set(client.roles), via: 'mtls' };
    }
    throw unauthenticated('credentials required: send "authorization: Bearer <token>" or a client certificate');
  };
}
