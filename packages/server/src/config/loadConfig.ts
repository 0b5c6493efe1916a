import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DEFAULT_MAX_MESSAGE_BYTES } from '@nexus-control/client';
import { identifierProblem, type Actor } from '@nexus-control/core';
import { isRole, ROLES, type Role } from '../auth/roles.js';
import { configProblem } from './configFileSchema.js';
import {
  DEFAULT_ADAPTER_CAPABILITIES,
  DEFAULT_ADAPTER_TIMEOUT_MS,
  DEFAULT_EXECUTION_SETTINGS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_TRACE_EXPORT_INTERVAL_MS,
  DEFAULT_TRACING_SERVICE_NAME,
  type ExecutionSettings,
  type AdapterConfig,
  type AuthConfig,
  type CertificateIdentity,
  type LogLevel,
  type MetricsConfig,
  type MtlsConfig,
  type ServerConfig,
  type TlsConfig,
  type TokenIdentity,
  type TracingConfig,
} from './ServerConfig.js';
import { ListenAddressError, parseListenAddress } from '../listenAddress.js';

/** A configuration problem, named by its path in the file (e.g. `auth.tokens[0].sha256`). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Obj = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new ConfigError(`${path}: ${message}`);
}

function object(value: unknown, path: string, allowed: readonly string[]): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(path, `unknown key '${key}' (allowed: ${allowed.join(', ')})`);
  }
  return value as Obj;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') fail(path, 'must be a non-empty string');
  return value;
}

function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : string(value, path);
}

function positiveInt(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(path, 'must be a positive integer');
  return value;
}

function ratio(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) fail(path, 'must be a number from 0 to 1');
  return value;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, 'must be an array');
  return value;
}

function stringList(value: unknown, path: string): string[] {
  return array(value, path).map((item, i) => string(item, `${path}[${i}]`));
}

function stringMap(value: unknown, path: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object of strings');
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') fail(`${path}.${key}`, 'must be a string');
    out[key] = item;
  }
  return out;
}

function actorOf(entry: Obj, path: string): Actor {
  const id = string(entry['actor'], `${path}.actor`);
  // An actor id every command would refuse must fail at start-up, not at the first call.
  const problem = identifierProblem(id);
  if (problem !== undefined) fail(`${path}.actor`, problem);
  const type = entry['type'] ?? 'human';
  if (type !== 'human' && type !== 'system') fail(`${path}.type`, "must be 'human' or 'system'");
  return { type, id };
}

function rolesOf(value: unknown, path: string): Role[] {
  const roles = array(value, path);
  if (roles.length === 0) fail(path, `must name at least one role (${ROLES.join(', ')})`);
  return roles.map((role, i) => {
    if (!isRole(role)) fail(`${path}[${i}]`, `unknown role '${String(role)}' (roles: ${ROLES.join(', ')})`);
    return role;
  });
}

/** PEM given inline, or a file path relative to the configuration file. */
function pem(value: unknown, path: string, baseDir: string): Buffer {
  const text = string(value, path);
  if (text.startsWith('-----BEGIN')) return Buffer.from(text);
  const file = isAbsolute(text) ? text : resolve(baseDir, text);
  try {
    return readFileSync(file);
  } catch (error) {
    fail(path, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function tokens(value: unknown, path: string): TokenIdentity[] {
  const seen = new Set<string>();
  return array(value, path).map((item, i) => {
    const p = `${path}[${i}]`;
    const entry = object(item, p, ['sha256', 'actor', 'type', 'roles']);
    const sha256 = string(entry['sha256'], `${p}.sha256`);
    if (!SHA256_HEX.test(sha256)) fail(`${p}.sha256`, 'must be the lowercase hex SHA-256 of the token (64 digits), never the token itself');
    if (seen.has(sha256)) fail(`${p}.sha256`, 'the same token is listed twice');
    seen.add(sha256);
    return { sha256, actor: actorOf(entry, p), roles: rolesOf(entry['roles'], `${p}.roles`) };
  });
}

/** `"CN=bot,O=Example"` → `{ CN: 'bot', O: 'Example' }`. */
function subjectOf(value: unknown, path: string): Record<string, string> {
  const text = string(value, path);
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) fail(path, `'${part.trim()}' is not ATTRIBUTE=value (e.g. "CN=bot")`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function mtls(value: unknown, path: string, baseDir: string): MtlsConfig {
  const entry = object(value, path, ['ca', 'cert', 'key', 'clients']);
  const clients = array(entry['clients'] ?? [], `${path}.clients`).map((item, i): CertificateIdentity => {
    const p = `${path}.clients[${i}]`;
    const client = object(item, p, ['subject', 'fingerprint256', 'actor', 'type', 'roles']);
    if (client['subject'] === undefined && client['fingerprint256'] === undefined) fail(p, 'needs a subject or a fingerprint256');
    const fingerprint = optionalString(client['fingerprint256'], `${p}.fingerprint256`);
    return {
      ...(client['subject'] === undefined ? {} : { subject: subjectOf(client['subject'], `${p}.subject`) }),
      ...(fingerprint === undefined ? {} : { fingerprint256: fingerprint.toUpperCase() }),
      actor: actorOf(client, p),
      roles: rolesOf(client['roles'], `${p}.roles`),
    };
  });
  return {
    ca: pem(entry['ca'], `${path}.ca`, baseDir),
    cert: pem(entry['cert'], `${path}.cert`, baseDir),
    key: pem(entry['key'], `${path}.key`, baseDir),
    clients,
  };
}

function adapters(value: unknown, path: string, baseDir: string): AdapterConfig[] {
  const ids = new Set<string>();
  return array(value ?? [], path).map((item, i): AdapterConfig => {
    const p = `${path}[${i}]`;
    const type = (item as Obj | null)?.['type'];
    const common = ['id', 'type'];
    let adapter: AdapterConfig;
    if (type === 'null') {
      const entry = object(item, p, common);
      adapter = { type, id: string(entry['id'], `${p}.id`) };
    } else if (type === 'subprocess') {
      const entry = object(item, p, [...common, 'command', 'cwd', 'env', 'timeoutMs', 'capabilities']);
      const command = stringList(entry['command'], `${p}.command`);
      if (command.length === 0) fail(`${p}.command`, 'must name the program to run');
      const cwd = optionalString(entry['cwd'], `${p}.cwd`);
      adapter = {
        type,
        id: string(entry['id'], `${p}.id`),
        command,
        cwd: cwd === undefined ? baseDir : resolve(baseDir, cwd),
        env: stringMap(entry['env'], `${p}.env`),
        timeoutMs: positiveInt(entry['timeoutMs'], `${p}.timeoutMs`, DEFAULT_ADAPTER_TIMEOUT_MS),
        capabilities:
          entry['capabilities'] === undefined ? DEFAULT_ADAPTER_CAPABILITIES : stringList(entry['capabilities'], `${p}.capabilities`),
      };
    } else if (type === 'http') {
      const entry = object(item, p, [...common, 'url', 'headers', 'timeoutMs', 'capabilities']);
      const url = string(entry['url'], `${p}.url`);
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        fail(`${p}.url`, `'${url}' is not a URL`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(`${p}.url`, 'must be an http: or https: URL');
      adapter = {
        type,
        id: string(entry['id'], `${p}.id`),
        url,
        headers: stringMap(entry['headers'], `${p}.headers`),
        timeoutMs: positiveInt(entry['timeoutMs'], `${p}.timeoutMs`, DEFAULT_ADAPTER_TIMEOUT_MS),
        capabilities:
          entry['capabilities'] === undefined ? DEFAULT_ADAPTER_CAPABILITIES : stringList(entry['capabilities'], `${p}.capabilities`),
      };
    } else {
      object(item, p, [...common, 'command', 'cwd', 'env', 'url', 'headers', 'timeoutMs', 'capabilities']);
      fail(`${p}.type`, "must be 'null', 'subprocess' or 'http'");
    }
    if (ids.has(adapter.id)) fail(`${p}.id`, `adapter id '${adapter.id}' is used twice`);
    ids.add(adapter.id);
    return adapter;
  });
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function metricsConfig(value: unknown, grpcListen: unknown): MetricsConfig {
  const entry = object(value, 'metrics', ['listen']);
  const listen = string(entry['listen'], 'metrics.listen');
  try {
    const address = parseListenAddress(listen);
    if (address.target.startsWith('unix:')) fail('metrics.listen', 'must be HOST:PORT');
  } catch (error) {
    if (error instanceof ListenAddressError) fail('metrics.listen', error.message.replace(/^--listen /, ''));
    throw error;
  }
  if (listen === grpcListen) fail('metrics.listen', 'must not be the gRPC listen address');
  return { listen };
}

function tracingConfig(value: unknown): TracingConfig {
  const entry = object(value, 'tracing', ['endpoint', 'headers', 'serviceName', 'exportIntervalMs', 'sampleRatio']);
  const endpoint = string(entry['endpoint'], 'tracing.endpoint');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    fail('tracing.endpoint', 'must be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('tracing.endpoint', 'must be an http:// or https:// URL');
  return {
    endpoint,
    headers: entry['headers'] === undefined ? {} : stringMap(entry['headers'], 'tracing.headers'),
    serviceName: optionalString(entry['serviceName'], 'tracing.serviceName') ?? DEFAULT_TRACING_SERVICE_NAME,
    exportIntervalMs: positiveInt(entry['exportIntervalMs'], 'tracing.exportIntervalMs', DEFAULT_TRACE_EXPORT_INTERVAL_MS),
    sampleRatio: ratio(entry['sampleRatio'], 'tracing.sampleRatio', 1),
  };
}

/**
 * Validates a parsed configuration file. Paths inside it (certificates, adapter working
 * directories) are relative to `baseDir`, the file's directory.
 */
export function parseConfig(value: unknown, baseDir: string): ServerConfig {
  const problem = configProblem(value);
  if (problem !== undefined) throw new ConfigError(problem);
  const root = object(value, 'config', [
    '$schema',
    'listen',
    'store',
    'auth',
    'tls',
    'adapters',
    'limits',
    'shutdownGraceMs',
    'logLevel',
    'logging',
    'metrics',
    'tracing',
    'executions',
  ]);
  let auth: AuthConfig | undefined;
  let forbidSelfApproval = false;
  if (root['auth'] !== undefined) {
    const entry = object(root['auth'], 'auth', ['tokens', 'mtls', 'forbidSelfApproval']);
    const tokenList = entry['tokens'] === undefined ? [] : tokens(entry['tokens'], 'auth.tokens');
    const mtlsConfig = entry['mtls'] === undefined ? undefined : mtls(entry['mtls'], 'auth.mtls', baseDir);
    if (entry['forbidSelfApproval'] !== undefined && typeof entry['forbidSelfApproval'] !== 'boolean') {
      fail('auth.forbidSelfApproval', 'must be true or false');
    }
    forbidSelfApproval = entry['forbidSelfApproval'] === true;
    if (tokenList.length > 0 || mtlsConfig) auth = { tokens: tokenList, ...(mtlsConfig ? { mtls: mtlsConfig } : {}) };
  }
  let tls: TlsConfig | undefined;
  if (root['tls'] !== undefined) {
    const entry = object(root['tls'], 'tls', ['cert', 'key']);
    if (auth?.mtls) fail('tls', 'auth.mtls already configures the server certificate; remove one of them');
    tls = { cert: pem(entry['cert'], 'tls.cert', baseDir), key: pem(entry['key'], 'tls.key', baseDir) };
  }
  const limits = root['limits'] === undefined ? {} : object(root['limits'], 'limits', ['maxReceiveMessageBytes', 'maxSendMessageBytes']);
  const logging = root['logging'] === undefined ? {} : object(root['logging'], 'logging', ['level']);
  if (logging['level'] !== undefined && root['logLevel'] !== undefined) fail('logging.level', 'logLevel says the same: keep one of them');
  const logLevelPath = logging['level'] !== undefined ? 'logging.level' : 'logLevel';
  const logLevel = logging['level'] ?? root['logLevel'];
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel as LogLevel)) fail(logLevelPath, `must be one of ${LOG_LEVELS.join(', ')}`);
  const metrics = root['metrics'] === undefined ? undefined : metricsConfig(root['metrics'], root['listen']);
  const tracing = root['tracing'] === undefined ? undefined : tracingConfig(root['tracing']);
  const listen = optionalString(root['listen'], 'listen');
  const store = optionalString(root['store'], 'store');
  return {
    ...(listen === undefined ? {} : { listen }),
    ...(store === undefined ? {} : { store }),
    ...(auth ? { auth } : {}),
    ...(tls ? { tls } : {}),
    forbidSelfApproval,
    adapters: adapters(root['adapters'], 'adapters', baseDir),
    limits: {
      maxReceiveMessageBytes: positiveInt(limits['maxReceiveMessageBytes'], 'limits.maxReceiveMessageBytes', DEFAULT_MAX_MESSAGE_BYTES),
      maxSendMessageBytes: positiveInt(limits['maxSendMessageBytes'], 'limits.maxSendMessageBytes', DEFAULT_MAX_MESSAGE_BYTES),
    },
    shutdownGraceMs: positiveInt(root['shutdownGraceMs'], 'shutdownGraceMs', DEFAULT_SHUTDOWN_GRACE_MS),
    ...(logLevel === undefined ? {} : { logLevel: logLevel as LogLevel }),
    executions: executionSettings(root['executions']),
    ...(metrics ? { metrics } : {}),
    ...(tracing ? { tracing } : {}),
  };
}

function executionSettings(value: unknown): ExecutionSettings {
  if (value === undefined) return DEFAULT_EXECUTION_SETTINGS;
  const entry = object(value, 'executions', ['leaseMs', 'renewMs', 'sweepMs']);
  const leaseMs = positiveInt(entry['leaseMs'], 'executions.leaseMs', DEFAULT_EXECUTION_SETTINGS.leaseMs);
  const renewMs = positiveInt(
    entry['renewMs'],
    'executions.renewMs',
    Math.min(DEFAULT_EXECUTION_SETTINGS.renewMs, Math.floor(leaseMs / 3)),
  );
  const sweepMs = positiveInt(
    entry['sweepMs'],
    'executions.sweepMs',
    Math.min(DEFAULT_EXECUTION_SETTINGS.sweepMs, Math.floor(leaseMs / 2)),
  );
  if (leaseMs < 100) fail('executions.leaseMs', 'must be at least 100');
  if (renewMs >= leaseMs) fail('executions.renewMs', 'must be shorter than executions.leaseMs, or a live run loses its lease');
  return { leaseMs, renewMs, sweepMs };
}

/** Reads and validates a JSON configuration file; ConfigError names the file and the problem. */
export function loadConfig(path: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseConfig(value, dirname(resolve(path)));
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`config file ${path}: ${error.message}`);
    throw error;
  }
}

/** Defaults used when no configuration file is given. */
export function defaultConfig(): ServerConfig {
  return parseConfig({}, process.cwd());
}
