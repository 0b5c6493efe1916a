import { readFileSync } from 'node:fs';
import {
  createNexusClient,
  isNexusClientError,
  NexusClientError,
  type NexusClient,
  type NexusClientOptions,
  type NexusTlsOptions,
} from '@nexus-control/client';
import type { CliIo } from '../CliIo.js';
import { UsageError } from './UsageError.js';

export const DEFAULT_SERVER = '127.0.0.1:50051';
export const SERVER_ENV = 'NEXUS_CONTROL_SERVER';
export const TOKEN_ENV = 'NEXUS_CONTROL_TOKEN';

/** The options every client command accepts (node:util parseArgs form). */
export const CLIENT_OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-server-name': { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The help text of the common options, appended to every client command's usage. */
export const CLIENT_OPTIONS_HELP = `connection:
  --server HOST:PORT      the server (default: $${SERVER_ENV}, else ${DEFAULT_SERVER})
  --token TOKEN           bearer token (default: $${TOKEN_ENV})
  --tls                   use TLS with the system's root certificates
  --tls-ca FILE           use TLS, trusting this CA certificate (PEM)
  --tls-cert FILE         client certificate for mutual TLS (PEM; needs --tls-key)
  --tls-key FILE          private key of --tls-cert (PEM)
  --tls-server-name NAME  name to expect on the server certificate (e.g. when --server is an IP)
  --timeout DURATION      deadline of each call, with a unit: 30s, 500ms, 2m (default 30s; 0 for none)
  --json                  print JSON instead of text (errors too, on stderr)

exit status: 0 success, 1 the server reported an error (printed as "error [CODE]: message"),
2 bad arguments or unreadable input files`;

export interface ClientOptionValues {
  readonly server?: string | undefined;
  readonly token?: string | undefined;
  readonly tls?: boolean | undefined;
  readonly 'tls-ca'?: string | undefined;
  readonly 'tls-cert'?: string | undefined;
  readonly 'tls-key'?: string | undefined;
  readonly 'tls-server-name'?: string | undefined;
  readonly timeout?: string | undefined;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds of `500ms`, `30s`, `2m`, `8h` or `7d`. The unit is required: a bare `8` could mean
 * seconds or hours, so it is refused; only `0` (none) needs no unit.
 */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(trimmed);
  if (!match) {
    const hint = /^\d+(?:\.\d+)?$/.test(trimmed)
      ? `: give a unit, e.g. ${trimmed}s, ${trimmed}m or ${trimmed}h`
      : ' (e.g. 500ms, 30s, 2m, 8h, 7d)';
    throw new UsageError(`${flag} '${text}' is not a duration${hint}`);
  }
  return Math.round(Number(match[1]) * (DURATION_UNITS_MS[match[2]!] ?? 1000));
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The client options the flags and environment describe; validates before anything connects. */
export function clientOptionsFrom(values: ClientOptionValues, io: CliIo): NexusClientOptions {
  const address = values.server ?? (io.env[SERVER_ENV] || DEFAULT_SERVER);
  if (!/^(?:\[[^\]]+\]|[^:[\]\s]+):\d{1,5}$/.test(address) && !address.startsWith('unix:')) {
    throw new UsageError(`--server '${address}' is not HOST:PORT`);
  }
  const token = values.token ?? (io.env[TOKEN_ENV] || undefined);
  if (token !== undefined && (token === '' || /\s/.test(token))) throw new UsageError('--token must be non-empty and without spaces');
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  let tls: NexusClientOptions['tls'];
  if (values['tls-ca'] !== undefined || values['tls-cert'] !== undefined || values['tls-server-name'] !== undefined) {
    const options: { -readonly [K in keyof NexusTlsOptions]: NexusTlsOptions[K] } = {};
    if (values['tls-ca'] !== undefined) options.ca = readPem(values['tls-ca'], '--tls-ca');
    if (values['tls-cert'] !== undefined) options.cert = readPem(values['tls-cert'], '--tls-cert');
    if (values['tls-key'] !== undefined) options.key = readPem(values['tls-key'], '--tls-key');
    if (values['tls-server-name'] !== undefined) options.serverName = values['tls-server-name'];
    tls = options;
  } else if (values.tls) {
    tls = true;
  }
  const deadlineMs = values.timeout === undefined ? undefined : parseDuration(values.timeout, '--timeout');
  return {
    address,
    ...(token === undefined ? {} : { token }),
    ...(tls === undefined ? {} : { tls }),
    ...(deadlineMs === undefined ? {} : { deadlineMs }),
  };
}

/** Runs `use` with a client built from the flags, closing it afterwards. */
export async function withClient<T>(values: ClientOptionValues, io: CliIo, use: (client: NexusClient) => Promise<T>): Promise<T> {
  const options = clientOptionsFrom(values, io);
  const client = createNexusClient(options);
  try {
    return await use(client);
  } catch (error) {
    // The transport's own wording ("No connection established. Last error: …") does not say where it tried.
    if (isNexusClientError(error) && !error.fromServer && error.code === 'UNAVAILABLE') {
      const reason = error.message.replace(/\s*Resolution note:\s*$/, '');
      throw new NexusClientError(error.code, error.grpcCode, `cannot reach the server at ${options.address}: ${reason}`, { cause: error });
    }
    throw error;
  } finally {
    client.close();
  }
}
