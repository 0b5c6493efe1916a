import {
  Client,
  credentials as grpcCredentials,
  Metadata,
  status as GrpcStatus,
  type CallOptions as GrpcCallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  ApprovalServiceService,
  ApproveRequest,
  RevokeRequest,
  type ApproveResponse,
  type RevokeResponse,
} from './gen/nexus/control/v1/approvals.js';
import {
  AttachAttestationRequest,
  AuditServiceService,
  ExportAuditPackageRequest,
  VerifyAuditPackageRequest,
  type AttachAttestationResponse,
  type ExportAuditPackageResponse,
  type VerifyAuditPackageResponse,
} from './gen/nexus/control/v1/audit.js';
import {
  BundleServiceService,
  ExportBundleRequest,
  ImportBundleRequest,
  type ExportBundleResponse,
  type ImportBundleResponse,
} from './gen/nexus/control/v1/bundles.js';
import {
  CreateDecisionRequest,
  DecisionServiceService,
  GetDecisionRequest,
  InspectDecisionRequest,
  ListDecisionsRequest,
  ListEventsRequest,
  WatchDecisionsRequest,
  type CreateDecisionResponse,
  type GetDecisionResponse,
  type InspectDecisionResponse,
  type ListDecisionsResponse,
  type ListEventsResponse,
  type WatchDecisionsResponse,
} from './gen/nexus/control/v1/decisions.js';
import {
  DiagnosticsServiceService,
  EchoRequest,
  WhoAmIRequest,
  type EchoResponse,
  type WhoAmIResponse,
} from './gen/nexus/control/v1/diagnostics.js';
import {
  ExecuteRequest,
  FailExecutionRequest,
  ExecutionServiceService,
  ListAdaptersRequest,
  type ExecuteResponse,
  type FailExecutionResponse,
  type ListAdaptersResponse,
} from './gen/nexus/control/v1/execution.js';
import {
  CreateTemplateRequest,
  GetTemplateRequest,
  ListTemplatesRequest,
  TemplateServiceService,
  type CreateTemplateResponse,
  type GetTemplateResponse,
  type ListTemplatesResponse,
} from './gen/nexus/control/v1/templates.js';
import type { DeepPartial, Event, MessageFns } from './gen/nexus/control/v1/types.js';
import { NexusClientError } from './NexusClientError.js';
import { AUTHORIZATION_HEADER, DEFAULT_MAX_MESSAGE_BYTES } from './wireNames.js';

export interface NexusTlsOptions {
  /** PEM of the CA that signed the server certificate; default: the system roots. */
  readonly ca?: string | Buffer;
  /** PEM client certificate and key, for mTLS. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Expected server name when it differs from the address's host (tests, IP addresses). */
  readonly serverName?: string;
}

export interface NexusClientOptions {
  /** `host:port`, e.g. `127.0.0.1:50051`. */
  readonly address: string;
  /** Bearer token sent on every call. */
  readonly token?: string;
  /** `true` for TLS with the system roots; an object for a custom CA and/or mTLS. Default plaintext. */
  readonly tls?: boolean | NexusTlsOptions;
  /** Deadline of unary calls unless a call says otherwise; default 30 s; 0 for none. Streams have none by default. */
  readonly deadlineMs?: number;
  /** Largest message sent or received; default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Extra grpc-js channel options. */
  readonly channelOptions?: ChannelOptions;
}

export interface NexusCallOptions {
  /** Deadline of this call in milliseconds; 0 for none. */
  readonly deadlineMs?: number;
  /** Cancels the call; the promise rejects with code `CANCELLED`. */
  readonly signal?: AbortSignal;
  /** Extra request metadata. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A unary RPC: partial request in (unset fields take proto defaults), response out; rejects with NexusClientError. */
export type UnaryMethod<Req, Res> = (request?: DeepPartial<Req>, options?: NexusCallOptions) => Promise<Res>;

/**
 * One message of a watch, as the wrapper yields it: an event (with its `checkpoint` token), a
 * periodic checkpoint while nothing matching arrived, or — once — the point where the stream
 * caught up with the live head. Persist the latest `checkpoint` of any of them and pass it as
 * `after` to resume exactly there.
 */
export type NexusWatchItem =
  | { readonly type: 'event'; readonly event: Event }
  | { readonly type: 'checkpoint'; readonly checkpoint: string }
  | { readonly type: 'caught_up'; readonly checkpoint: string };

/** A running WatchDecisions stream: iterate it; `cancel()` or breaking out of the loop ends it. */
export interface NexusWatch extends AsyncIterable<NexusWatchItem> {
  cancel(): void;
}

export interface NexusClient {
  createDecision: UnaryMethod<CreateDecisionRequest, CreateDecisionResponse>;
  getDecision: UnaryMethod<GetDecisionRequest, GetDecisionResponse>;
  listDecisions: UnaryMethod<ListDecisionsRequest, ListDecisionsResponse>;
  listEvents: UnaryMethod<ListEventsRequest, ListEventsResponse>;
  inspectDecision: UnaryMethod<InspectDecisionRequest, InspectDecisionResponse>;
  watchDecisions(request?: DeepPartial<WatchDecisionsRequest>, options?: NexusCallOptions): NexusWatch;

  approve: UnaryMethod<ApproveRequest, ApproveResponse>;
  revoke: UnaryMethod<RevokeRequest, RevokeResponse>;

  execute: UnaryMethod<ExecuteRequest, ExecuteResponse>;
  failExecution: UnaryMethod<FailExecutionRequest, FailExecutionResponse>;
  listAdapters: UnaryMethod<ListAdaptersRequest, ListAdaptersResponse>;

  createTemplate: UnaryMethod<CreateTemplateRequest, CreateTemplateResponse>;
  getTemplate: UnaryMethod<GetTemplateRequest, GetTemplateResponse>;
  listTemplates: UnaryMethod<ListTemplatesRequest, ListTemplatesResponse>;

  exportBundle: UnaryMethod<ExportBundleRequest, ExportBundleResponse>;
  importBundle: UnaryMethod<ImportBundleRequest, ImportBundleResponse>;

  exportAuditPackage: UnaryMethod<ExportAuditPackageRequest, ExportAuditPackageResponse>;
  verifyAuditPackage: UnaryMethod<VerifyAuditPackageRequest, VerifyAuditPackageResponse>;
  attachAttestation: UnaryMethod<AttachAttestationRequest, AttachAttestationResponse>;

  echo: UnaryMethod<EchoRequest, EchoResponse>;
  whoAmI: UnaryMethod<WhoAmIRequest, WhoAmIResponse>;

  /** Resolves once the channel is connected; rejects with `UNAVAILABLE` after `timeoutMs`. */
  waitForReady(timeoutMs?: number): Promise<void>;
  /** The underlying grpc-js client, for calls the wrapper does not cover. */
  readonly channel: Client;
  close(): void;
}

interface MethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly responseDeserialize: (value: Buffer) => Res;
}

const DEFAULT_DEADLINE_MS = 30_000;

function channelCredentials(tls: NexusClientOptions['tls']): ChannelCredentials {
  if (!tls) return grpcCredentials.createInsecure();
  if (tls === true) return grpcCredentials.createSsl();
  const pem = (value: string | Buffer | undefined) => (value === undefined ? null : Buffer.isBuffer(value) ? value : Buffer.from(value));
  return grpcCredentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
}

/** A client for every Nexus Control service over one channel, with promise methods and typed errors. */
export function createNexusClient(options: NexusClientOptions): NexusClient {
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const channelOptions: ChannelOptions = {
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
    ...(typeof options.tls === 'object' && options.tls.serverName
      ? { 'grpc.ssl_target_name_override': options.tls.serverName, 'grpc.default_authority': options.tls.serverName }
      : {}),
    ...options.channelOptions,
  };
  const channel = new Client(options.address, channelCredentials(options.tls), channelOptions);
  const defaultDeadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;

  function metadataFor(call: NexusCallOptions | undefined): Metadata {
    const metadata = new Metadata();
    if (options.token !== undefined) metadata.set(AUTHORIZATION_HEADER, `Bearer ${options.token}`);
    for (const [key, value] of Object.entries(call?.metadata ?? {})) metadata.set(key, value);
    return metadata;
  }

  function grpcOptionsFor(deadlineMs: number): GrpcCallOptions {
    return deadlineMs > 0 ? { deadline: new Date(Date.now() + deadlineMs) } : {};
  }

  function cancelledError(): NexusClientError {
    return new NexusClientError('CANCELLED', GrpcStatus.CANCELLED, 'the call was cancelled by the caller');
  }

  function unary<Req, Res>(definition: MethodDefinition<Req, Res>, type: MessageFns<Req>): UnaryMethod<Req, Res> {
    return (request, callOptions) =>
      new Promise<Res>((resolve, reject) => {
        const signal = callOptions?.signal;
        if (signal?.aborted) {
          reject(cancelledError());
          return;
        }
        let message: Req;
        try {
          message = type.fromPartial(request ?? ({} as DeepPartial<Req>));
        } catch (error) {
          reject(
            new NexusClientError('INVALID_ARGUMENT', GrpcStatus.INVALID_ARGUMENT, `invalid request: ${(error as Error).message}`, {
              cause: error,
            }),
          );
          return;
        }
        const onAbort = () => call.cancel();
        const call = channel.makeUnaryRequest(
          definition.path,
          definition.requestSerialize,
          definition.responseDeserialize,
          message,
          metadataFor(callOptions),
          grpcOptionsFor(callOptions?.deadlineMs ?? defaultDeadlineMs),
          (error: ServiceError | null, response?: Res) => {
            signal?.removeEventListener('abort', onAbort);
            if (error) reject(NexusClientError.fromServiceError(error));
            else resolve(response as Res);
          },
        );
        signal?.addEventListener('abort', onAbort, { once: true });
      });
  }

  function watchDecisions(request: DeepPartial<WatchDecisionsRequest> = {}, callOptions?: NexusCallOptions): NexusWatch {
    const definition = DecisionServiceService.watchDecisions;
    const call = channel.makeServerStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      WatchDecisionsRequest.fromPartial(request),
      metadataFor(callOptions),
      grpcOptionsFor(callOptions?.deadlineMs ?? 0),
    );
    let cancelledByCaller = false;
    const cancel = () => {
      cancelledByCaller = true;
      call.cancel();
    };
    const signal = callOptions?.signal;
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });

    async function* iterate(): AsyncGenerator<NexusWatchItem> {
      try {
        for await (const response of call as AsyncIterable<WatchDecisionsResponse>) {
          if (response.event) yield { type: 'event', event: response.event };
          else if (response.checkpoint) yield { type: 'checkpoint', checkpoint: response.checkpoint.checkpoint };
          else if (response.caughtUp) yield { type: 'caught_up', checkpoint: response.caughtUp.checkpoint };
        }
      } catch (error) {
        if (cancelledByCaller) return;
        throw NexusClientError.fromServiceError(error as ServiceError);
      } finally {
        signal?.removeEventListener('abort', cancel);
        if (!cancelledByCaller) call.cancel();
      }
    }
    return { cancel, [Symbol.asyncIterator]: iterate };
  }

  return {
    createDecision: unary(DecisionServiceService.createDecision, CreateDecisionRequest),
    getDecision: unary(DecisionServiceService.getDecision, GetDecisionRequest),
    listDecisions: unary(DecisionServiceService.listDecisions, ListDecisionsRequest),
    listEvents: unary(DecisionServiceService.listEvents, ListEventsRequest),
    inspectDecision: unary(DecisionServiceService.inspectDecision, InspectDecisionRequest),
    watchDecisions,
    approve: unary(ApprovalServiceService.approve, ApproveRequest),
    revoke: unary(ApprovalServiceService.revoke, RevokeRequest),
    execute: unary(ExecutionServiceService.execute, ExecuteRequest),
    failExecution: unary(ExecutionServiceService.failExecution, FailExecutionRequest),
    listAdapters: unary(ExecutionServiceService.listAdapters, ListAdaptersRequest),
    createTemplate: unary(TemplateServiceService.createTemplate, CreateTemplateRequest),
    getTemplate: unary(TemplateServiceService.getTemplate, GetTemplateRequest),
    listTemplates: unary(TemplateServiceService.listTemplates, ListTemplatesRequest),
    exportBundle: unary(BundleServiceService.exportBundle, ExportBundleRequest),
    importBundle: unary(BundleServiceService.importBundle, ImportBundleRequest),
    exportAuditPackage: unary(AuditServiceService.exportAuditPackage, ExportAuditPackageRequest),
    verifyAuditPackage: unary(AuditServiceService.verifyAuditPackage, VerifyAuditPackageRequest),
    attachAttestation: unary(AuditServiceService.attachAttestation, AttachAttestationRequest),
    echo: unary(DiagnosticsServiceService.echo, EchoRequest),
    whoAmI: unary(DiagnosticsServiceService.whoAmI, WhoAmIRequest),
    waitForReady: (timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) =>
        channel.waitForReady(Date.now() + timeoutMs, (error) =>
          error ? reject(new NexusClientError('UNAVAILABLE', GrpcStatus.UNAVAILABLE, error.message, { cause: error })) : resolve(),
        ),
      ),
    channel,
    close: () => channel.close(),
  };
}
