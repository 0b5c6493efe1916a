import { parseArgs, format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import type { EventStore } from '@nexus-control/core';
import { ConfigError, defaultConfig, loadConfig } from '../../config/loadConfig.js';
import type { LogLevel, ServerConfig } from '../../config/ServerConfig.js';
import { ListenAddressError, DEFAULT_LISTEN } from '../../listenAddress.js';
import { createBatchedWrite } from '../../logging/createBatchedWrite.js';
import { createLogger, type Logger } from '../../logging/createLogger.js';
import { createRouterFromConfig } from '../../router/createRouterFromConfig.js';
import { startServer, type RunningServer } from '../../startServer.js';
import { DEFAULT_STORE, StoreSpecError, openStore } from '../../store/openStore.js';
import type { CliCommand, CliIo } from '../CliIo.js';
import { reportError } from '../reportError.js';

const HELP = `usage: nexus-control serve [options]

Runs the gRPC API (with health checking and reflection) until SIGTERM or SIGINT (Ctrl-C).

options:
  --listen HOST:PORT   address to listen on (default ${DEFAULT_LISTEN}; port 0 picks a free port)
  --store SPEC         sqlite:PATH[?synchronous=full|normal] (default ${DEFAULT_STORE}, full:
                       an acknowledged write survives power loss), postgres://… or mongodb://…
  --no-migrate         PostgreSQL: do not apply pending schema migrations at start (refuse
                       a schema that is not current; run 'nexus-control migrate' instead)
  --config FILE        JSON configuration: auth (tokens, mtls, forbidSelfApproval), tls,
                       adapters, limits, shutdownGraceMs, logging.level (or logLevel),
                       metrics.listen (Prometheus /metrics), tracing (OTLP/HTTP endpoint),
                       executions (leaseMs, renewMs, sweepMs: execution leases and their
                       recovery)
  --log-level LEVEL    debug, info (default), warn or error
  -h, --help           show this help

Logs are JSON lines on stderr; the line with "msg":"listening" carries the bound address.
A failure to start is one line on stderr, "error [CODE]: message" (exit status 2 for bad
options or configuration, 1 otherwise).
Without auth in the configuration every caller is the local admin, and only loopback
addresses may be used.`;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Waits for SIGTERM or SIGINT; a second signal while stopping forces the stop. Losing the parent
 * process counts as a signal too: `npx nexus-control serve` runs the server under a shell that
 * dies on SIGTERM without passing it on, which would otherwise leave the server running alone.
 */
function untilSignal(onSecond: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) return onSecond();
      received = true;
      clearInterval(parentWatch);
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
    const parent = process.ppid;
    const parentWatch = setInterval(() => {
      if (process.ppid !== parent) handler('SIGHUP');
    }, 500);
    parentWatch.unref();
  });
}

/** The store spec for logs: user info and any `password=` parameter hidden. */
export function redactStore(spec: string): string {
  // Up to the last @ before the path: a password may hold an unescaped @.
  return spec.replace(/\/\/[^/?#]*@/, '//***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** The `store` label of metrics: the spec's scheme. */
function storeKind(spec: string): string {
  const scheme = /^([a-z]+)(?:\+[a-z]+)?:/i.exec(spec)?.[1]?.toLowerCase();
  return scheme === 'postgresql' ? 'postgres' : scheme === 'mongodb' ? 'mongodb' : (scheme ?? 'store');
}

function describeAuth(config: ServerConfig): string {
  if (!config.auth) return 'none';
  const kinds = [...(config.auth.tokens.length > 0 ? ['token'] : []), ...(config.auth.mtls ? ['mtls'] : [])];
  return kinds.join('+');
}

export const serve: CliCommand = async (argv: string[], io: CliIo) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        listen: { type: 'string' },
        store: { type: 'string' },
        config: { type: 'string' },
        'log-level': { type: 'string' },
        'no-migrate': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    reportError(io, 'USAGE', (error as Error).message, "run 'nexus-control help serve' for usage");
    return 2;
  }
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const level = values['log-level'];
  if (level !== undefined && !LOG_LEVELS.includes(level as LogLevel)) {
    reportError(io, 'USAGE', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
    return 2;
  }

  let config: ServerConfig;
  try {
    config = values.config === undefined ? defaultConfig() : loadConfig(values.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportError(io, 'CONFIG_INVALID', error.message);
    return 2;
  }
  const logger: Logger = createLogger({
    level: (level as LogLevel | undefined) ?? config.logLevel ?? 'info',
    write: createBatchedWrite((text) => io.err(text)),
  });
  // grpc-js prints its own diagnostics as plain text; keep stderr to JSON lines (and one error line).
  const grpcLog = (...args: unknown[]) => logger.debug('grpc', { message: format(...args) });
  setLogger({ error: grpcLog, info: grpcLog, debug: grpcLog });
  const storeSpec = values.store ?? config.store ?? DEFAULT_STORE;
  const listen = values.listen ?? config.listen ?? DEFAULT_LISTEN;

  let store: EventStore;
  try {
    store = await openStore(storeSpec, { migrate: values['no-migrate'] !== true });
  } catch (error) {
    reportError(
      io,
      error instanceof StoreSpecError ? 'USAGE' : 'STORE_UNAVAILABLE',
      `cannot open the store ${redactStore(storeSpec)}: ${(error as Error).message}`,
    );
    return error instanceof StoreSpecError ? 2 : 1;
  }

  const router = createRouterFromConfig(config.adapters);
  let server: RunningServer;
  try {
    server = await startServer({
      store,
      router,
      forbidSelfApproval: config.forbidSelfApproval,
      listen,
      ...(config.auth ? { auth: config.auth } : {}),
      ...(config.tls ? { tls: config.tls } : {}),
      limits: config.limits,
      logger,
      storeName: storeKind(storeSpec),
      ...(config.metrics ? { metrics: config.metrics } : {}),
      ...(config.tracing ? { tracing: config.tracing } : {}),
      executions: config.executions,
    });
  } catch (error) {
    await store.close();
    const message = (error as Error).message;
    if (/EADDRINUSE|address already in use/i.test(message)) {
      reportError(
        io,
        'ADDRESS_IN_USE',
        `${listen} is already in use (another server is listening there): stop it, or choose another address with --listen`,
      );
      return 1;
    }
    reportError(io, error instanceof ListenAddressError ? 'USAGE' : 'LISTEN_FAILED', `cannot listen on ${listen}: ${message}`);
    return error instanceof ListenAddressError ? 2 : 1;
  }

  if (
    config.auth &&
    config.auth.tokens.length > 0 &&
    !config.auth.mtls &&
    !config.tls &&
    !/^(127\.|\[::1\]|localhost|unix:)/.test(server.address)
  ) {
    logger.warn('bearer tokens travel in plaintext: configure tls for non-loopback listeners', { address: server.address });
  }
  logger.announce('listening', {
    address: server.address,
    port: server.port,
    store: redactStore(storeSpec),
    auth: describeAuth(config),
    tls: Boolean(config.tls || config.auth?.mtls),
    adapters: router.adapters().map((adapter) => adapter.id),
    metrics: server.metricsAddress ?? null,
    tracing: config.tracing ? redactStore(config.tracing.endpoint) : null,
    pid: process.pid,
  });

  const signal = await untilSignal(() => {
    logger.warn('second signal: cancelling the calls still running');
    server.grpcServer.forceShutdown();
  });
  logger.info('shutting down', { signal, grace_ms: config.shutdownGraceMs });
  await server.shutdown(config.shutdownGraceMs);
  await store.close();
  logger.info('stopped');
  return 0;
};
