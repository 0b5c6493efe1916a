import type { Actor } from '@nexus-control/core';
import type { Role } from '../auth/roles.js';

/** A bearer token, known only by the SHA-256 of its text. */
export interface TokenIdentity {
  /** Lowercase hex SHA-256 of the token's UTF-8 text. */
  readonly sha256: string;
  readonly actor: Actor;
  readonly roles: readonly Role[];
}

/** A client certificate accepted under mTLS, matched by subject attributes and/or fingerprint. */
export interface CertificateIdentity {
  /** Every attribute listed must equal the certificate subject's (e.g. `{ CN: 'bot' }`). */
  readonly subject?: Readonly<Record<string, string>>;
  /** SHA-256 fingerprint as Node prints it (`AB:CD:…`), compared case-insensitively. */
  readonly fingerprint256?: string;
  readonly actor: Actor;
  readonly roles: readonly Role[];
}

export interface MtlsConfig {
  /** PEM of the CA client certificates must chain to. */
  readonly ca: Buffer;
  /** The server's certificate and key (PEM). */
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clients: readonly CertificateIdentity[];
}

export interface AuthConfig {
  readonly tokens: readonly TokenIdentity[];
  readonly mtls?: MtlsConfig;
}

/** Server TLS without client certificates (tokens over TLS). */
export interface TlsConfig {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export type AdapterConfig =
  | { readonly type: 'null'; readonly id: string }
  | {
      readonly type: 'subprocess';
      readonly id: string;
      /** Program and arguments; no shell. */
      readonly command: readonly string[];
      readonly cwd: string;
      readonly env: Readonly<Record<string, string>>;
      readonly timeoutMs: number;
      readonly capabilities: readonly string[];
    }
  | {
      readonly type: 'http';
      readonly id: string;
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly timeoutMs: number;
      readonly capabilities: readonly string[];
    };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface MessageLimits {
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
}

/** Prometheus metrics on their own HTTP listener. */
export interface MetricsConfig {
  /** `HOST:PORT` of the HTTP listener serving `GET /metrics`; never the gRPC address. */
  readonly listen: string;
}

/** OpenTelemetry traces exported over OTLP/HTTP (JSON). */
export interface TracingConfig {
  /** The collector's traces URL, e.g. `http://127.0.0.1:4318/v1/traces`. */
  readonly endpoint: string;
  /** Extra export headers (e.g. the collector's authorization); never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** `service.name` of the exported resource. */
  readonly serviceName: string;
  /** How long finished spans wait to be exported together. */
  readonly exportIntervalMs: number;
  /**
   * The share of calls without a caller's trace context whose trace is recorded (0 to 1, by trace
   * id). A caller's `traceparent` decides for its own call whatever this says.
   */
  readonly sampleRatio: number;
}

/** The validated configuration file. */
export interface ServerConfig {
  readonly listen?: string;
  readonly store?: string;
  /** Absent: no authentication, every caller is the local admin, loopback only. */
  readonly auth?: AuthConfig;
  readonly tls?: TlsConfig;
  readonly forbidSelfApproval: boolean;
  readonly adapters: readonly AdapterConfig[];
  readonly limits: MessageLimits;
  /** How long shutdown waits for in-flight calls before cancelling them. */
  readonly shutdownGraceMs: number;
  readonly logLevel?: LogLevel;
  /** Execution leases and the recovery sweep (README, operations). */
  readonly executions: ExecutionSettings;
  /** Absent: no metrics listener. */
  readonly metrics?: MetricsConfig;
  /** Absent: no tracing (the span code is not even loaded). */
  readonly tracing?: TracingConfig;
}

export interface ExecutionSettings {
  /** How long a run's lease lasts without renewal. */
  readonly leaseMs: number;
  /** How often the server renews the lease of each run it executes. */
  readonly renewMs: number;
  /** How often the server looks for lapsed leases (also once at start-up). */
  readonly sweepMs: number;
}

export const DEFAULT_EXECUTION_SETTINGS: ExecutionSettings = Object.freeze({ leaseMs: 30_000, renewMs: 10_000, sweepMs: 15_000 });

export { DEFAULT_ADAPTER_CAPABILITIES } from '@nexus-control/adapters';
export const DEFAULT_ADAPTER_TIMEOUT_MS = 30_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
export const DEFAULT_TRACING_SERVICE_NAME = 'nexus-control';
export const DEFAULT_TRACE_EXPORT_INTERVAL_MS = 1_000;
