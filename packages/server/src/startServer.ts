import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import {
  ApprovalServiceService,
  AuditServiceService,
  BundleServiceService,
  DEFAULT_MAX_MESSAGE_BYTES,
  DecisionServiceService,
  DiagnosticsServiceService,
  ExecutionServiceService,
  TemplateServiceService,
} from '@nexus-control/client';
import {
  createNexusControl,
  createNullAdapter,
  createRouter,
  systemClock,
  type Clock,
  type EventStore,
  type NexusControl,
  type Router,
} from '@nexus-control/core';
import { HealthImplementation } from 'grpc-health-check';
import { createAuthenticator } from './auth/createAuthenticator.js';
import {
  DEFAULT_EXECUTION_SETTINGS,
  type AuthConfig,
  type ExecutionSettings,
  type MessageLimits,
  type MetricsConfig,
  type TlsConfig,
  type TracingConfig,
} from './config/ServerConfig.js';
import { startRecoveryLoop } from './startRecoveryLoop.js';
import { createDocumentRunner, type DocumentRunnerOptions } from './documents/createDocumentRunner.js';
import { createRpcRuntime } from './grpc/createRpcRuntime.js';
import { addHealthService } from './grpc/addHealthService.js';
import { refuseRepeatedAuthorization } from './grpc/refuseRepeatedAuthorization.js';
import { checkedDefinition, responseEncoders } from './grpc/wireChecks.js';
import { reflectionPackageDefinition } from './grpc/reflectionDefinition.js';
import type { ServerDeps } from './grpc/ServerDeps.js';
import { approvalService } from './grpc/services/approvalService.js';
import { auditService } from './grpc/services/auditService.js';
import { bundleService } from './grpc/services/bundleService.js';
import { decisionService } from './grpc/services/decisionService.js';
import { diagnosticsService } from './grpc/services/diagnosticsService.js';
import { executionService } from './grpc/services/executionService.js';
import { templateService } from './grpc/services/templateService.js';
import { DEFAULT_LISTEN, ListenAddressError, formatAddress, parseListenAddress } from './listenAddress.js';
import { silentLogger, type Logger } from './logging/createLogger.js';
import { createMetrics, type ServerMetrics } from './observability/createMetrics.js';
import { createRpcObserver } from './observability/createRpcObserver.js';
import { instrumentNexus } from './observability/instrumentNexus.js';
import { instrumentRouter } from './observability/instrumentRouter.js';
import { instrumentStore } from './observability/instrumentStore.js';
import { noTracing } from './observability/noTracing.js';
import { scopedLogger } from './observability/scopedLogger.js';
import { startMetricsListener, type MetricsListener } from './observability/startMetricsListener.js';
import type { Tracing } from './observability/Tracing.js';
import { watchStoreHealth } from './store/watchStoreHealth.js';

export interface StartServerOptions {
  readonly store: EventStore;
  /** Default: `createNexusControl` over `store`, `router`, `clock` and `forbidSelfApproval`. */
  readonly nexus?: NexusControl;
  /** Default: only the built-in `null` adapter. */
  readonly router?: Router;
  readonly clock?: Clock;
  readonly forbidSelfApproval?: boolean;
  /** `HOST:PORT` (port 0 picks one), `[IPv6]:PORT` or `unix:PATH`; default 127.0.0.1:50051. */
  readonly listen?: string;
  /** Absent: no authentication; every caller is the local admin and only loopback addresses are allowed. */
  readonly auth?: AuthConfig;
  /** Server TLS without client certificates (with mTLS, `auth.mtls` carries the certificate). */
  readonly tls?: TlsConfig;
  readonly limits?: Partial<MessageLimits>;
  readonly logger?: Logger;
  /** How often health checking probes the store; default 1000 ms. */
  readonly storeProbeMs?: number;
  /**
   * Execution leases and the recovery sweep (defaults: 30 s lease, 10 s renewal, 15 s sweep).
   * Used to build the default `nexus`; the sweep runs on whichever `nexus` the server uses.
   */
  readonly executions?: Partial<ExecutionSettings> & { readonly owner?: string };
  /** Where large client documents are processed (default: worker threads above 256 KiB). */
  readonly documents?: DocumentRunnerOptions;
  /** Prometheus metrics on their own HTTP listener; absent: none. */
  readonly metrics?: MetricsConfig;
  /** OpenTelemetry traces over OTLP/HTTP; absent: no span code is loaded and no span is created. */
  readonly tracing?: TracingConfig;
  /** The `store` label of store metrics and spans (`sqlite`, `postgres`, `mongodb`, …); default `store`. */
  readonly storeName?: string;
}

export interface RunningServer {
  /** The bound address, `HOST:PORT` with the actual port. */
  readonly address: string;
  readonly port: number;
  readonly grpcServer: Server;
  readonly nexus: NexusControl;
  /** The metrics listener's `HOST:PORT`, when metrics are on. */
  readonly metricsAddress?: string;
  /** The metrics registry, when metrics are on (the recovery sweep and embedders count into it). */
  readonly metrics?: ServerMetrics;
  /**
   * Stops accepting calls, ends open watch streams with UNAVAILABLE, lets in-flight calls
   * finish for up to `graceMs`, then cancels the rest and waits for their handlers to settle.
   * Does not close the store (its owner does).
   */
  shutdown(graceMs?: number): Promise<void>;
}

const SERVICE_NAMES = [
  'nexus.control.v1.DecisionService',
  'nexus.control.v1.ApprovalService',
  'nexus.control.v1.ExecutionService',
  'nexus.control.v1.TemplateService',
  'nexus.control.v1.BundleService',
  'nexus.control.v1.AuditService',
  'nexus.control.v1.DiagnosticsService',
];

function credentialsFor(auth: AuthConfig | undefined, tls: TlsConfig | undefined): ServerCredentials {
  if (auth?.mtls) {
    return ServerCredentials.createSsl(auth.mtls.ca, [{ cert_chain: auth.mtls.cert, private_key: auth.mtls.key }], true);
  }
  if (tls) return ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false);
  return ServerCredentials.createInsecure();
}

/** Starts the gRPC API with health checking and reflection; resolves once it is listening. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const listen = parseListenAddress(options.listen ?? DEFAULT_LISTEN);
  if (!options.auth && !listen.loopback) {
    throw new ListenAddressError(
      `refusing to listen on ${listen.target} without authentication: configure auth.tokens or auth.mtls, or listen on a loopback address`,
    );
  }
  const logger = scopedLogger(options.logger ?? silentLogger);
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ? createMetrics() : undefined;
  // Loaded only when configured: with tracing off no span code enters the process.
  const tracing: Tracing = options.tracing
    ? (await import('./observability/createOtlpTracing.js')).createOtlpTracing(options.tracing, {
        onProblem: (message) => logger.warn('trace export', { problem: message }),
      })
    : noTracing;
  const store = instrumentStore(options.store, options.storeName ?? 'store', metrics, tracing);
  const router = instrumentRouter(options.router ?? createRouter([createNullAdapter()]), tracing);
  const executions = { ...DEFAULT_EXECUTION_SETTINGS, ...options.executions };
  const nexus = instrumentNexus(
    options.nexus ??
      createNexusControl({
        store,
        router,
        clock,
        executionLeases: {
          leaseMs: executions.leaseMs,
          renewMs: executions.renewMs,
          ...(executions.owner === undefined ? {} : { owner: executions.owner }),
        },
        ...(options.forbidSelfApproval === undefined ? {} : { forbidSelfApproval: options.forbidSelfApproval }),
      }),
    tracing,
  );
  const deps: ServerDeps = {
    nexus,
    store,
    router,
    clock,
    documents: createDocumentRunner(options.documents),
    ...(metrics ? { metrics } : {}),
  };

  const server = new Server({
    'grpc.max_receive_message_length': options.limits?.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': options.limits?.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  });
  const definitions = [
    DecisionServiceService,
    ApprovalServiceService,
    ExecutionServiceService,
    TemplateServiceService,
    BundleServiceService,
    AuditServiceService,
    DiagnosticsServiceService,
  ] as const;
  const rpc = createRpcRuntime({
    authenticate: createAuthenticator(options.auth),
    logger,
    encoders: responseEncoders(definitions),
    observer: createRpcObserver({ tracing, ...(metrics ? { metrics } : {}) }),
  });
  server.addService(checkedDefinition(DecisionServiceService), decisionService(rpc, deps));
  server.addService(checkedDefinition(ApprovalServiceService), approvalService(rpc, deps));
  server.addService(checkedDefinition(ExecutionServiceService), executionService(rpc, deps));
  server.addService(checkedDefinition(TemplateServiceService), templateService(rpc, deps));
  server.addService(checkedDefinition(BundleServiceService), bundleService(rpc, deps));
  server.addService(checkedDefinition(AuditServiceService), auditService(rpc, deps));
  server.addService(checkedDefinition(DiagnosticsServiceService), diagnosticsService(rpc));

  const health = new HealthImplementation(Object.fromEntries([['', 'SERVING'], ...SERVICE_NAMES.map((name) => [name, 'SERVING'])]));
  let shuttingDown = false;
  const storeHealth = watchStoreHealth(
    options.store,
    (serving) => {
      if (shuttingDown) return;
      for (const name of ['', ...SERVICE_NAMES]) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
    },
    logger,
    options.storeProbeMs,
  );
  addHealthService(server, health);
  new ReflectionService(reflectionPackageDefinition() as unknown as ConstructorParameters<typeof ReflectionService>[0]).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen.target, credentialsFor(options.auth, options.tls), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  refuseRepeatedAuthorization(server);
  const address = listen.target.startsWith('unix:') ? listen.target : formatAddress(listen.host, port);
  let metricsListener: MetricsListener | undefined;
  if (metrics && options.metrics) {
    try {
      metricsListener = await startMetricsListener(metrics, options.metrics.listen);
    } catch (error) {
      server.forceShutdown();
      storeHealth.stop();
      await tracing.shutdown();
      throw error instanceof ListenAddressError
        ? error
        : new ListenAddressError(`cannot listen for metrics on ${options.metrics.listen}: ${(error as Error).message}`);
    }
  }

  const recovery = startRecoveryLoop(nexus, executions.sweepMs, logger, metrics);

  let stopping: Promise<void> | undefined;
  async function shutdown(graceMs = 10_000): Promise<void> {
    stopping ??= (async () => {
      shuttingDown = true;
      storeHealth.stop();
      await recovery.stop();
      for (const name of ['', ...SERVICE_NAMES]) health.setStatus(name, 'NOT_SERVING');
      rpc.closeStreams('the server is shutting down');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          logger.warn('shutdown grace period over: cancelling the calls still running', { in_flight: rpc.active() });
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      // Cancelled handlers still record their outcome (e.g. a failed execution) before the store closes.
      const until = Date.now() + 5_000;
      while (rpc.active() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await metricsListener?.close();
      await tracing
        .shutdown()
        .catch((error: unknown) => logger.warn('could not export the last spans', { error: (error as Error).message }));
    })();
    return stopping;
  }

  return {
    address,
    port,
    grpcServer: server,
    nexus,
    shutdown,
    ...(metricsListener ? { metricsAddress: metricsListener.address } : {}),
    ...(metrics ? { metrics } : {}),
  };
}
