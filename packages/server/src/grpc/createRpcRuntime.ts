import {
  Metadata,
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { ActorType, type Actor as ProtoActor } from '@nexus-control/client';
import { NexusError, quote, truncateText } from '@nexus-control/core';
import type { Authenticator, Identity } from '../auth/createAuthenticator.js';
import { isAllowed, rolesFor } from '../auth/permissions.js';
import { toServiceError } from '../errors/toServiceError.js';
import type { Logger } from '../logging/createLogger.js';
import { createRpcObserver, type ObservedCall, type RpcObserver } from '../observability/createRpcObserver.js';
import { noTracing } from '../observability/noTracing.js';
import { assertedActor } from './convert.js';
import { createLazySignal, type LazySignal } from './createLazySignal.js';
import { INVALID_UTF8, MALFORMED } from './wireChecks.js';

/** What a handler knows about the call besides its request. */
export interface RpcContext {
  readonly identity: Identity;
  /** Aborted when the client cancels, the deadline passes, or the server stops. */
  readonly signal: AbortSignal;
  /** Set by handlers that learn the decision id late (e.g. a new decision), for the log line. */
  decisionId?: string;
}

export type UnaryHandler<Req, Res> = (request: Req, ctx: RpcContext) => Promise<Res>;

export interface StreamSink<Res> {
  /** Sends response headers (once, before the first message). */
  sendHeaders(metadata: Metadata): void;
  /** Resolves when the message is handed to the transport (waits for backpressure). */
  write(message: Res): Promise<void>;
}

export type StreamHandler<Req, Res> = (request: Req, ctx: RpcContext, sink: StreamSink<Res>) => Promise<void>;

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

export interface RpcRuntime {
  unary<Req, Res>(method: string, handler: UnaryHandler<Req, Res>): handleUnaryCall<Req, Res>;
  serverStream<Req, Res>(method: string, handler: StreamHandler<Req, Res>): handleServerStreamingCall<Req, Res>;
  /** Ends every open stream with UNAVAILABLE (shutdown); unary calls are left to finish. */
  closeStreams(reason: string): void;
  /** Calls in flight. */
  readonly active: () => number;
}

const DEADLINE_SLACK_MS = 100;

class CallContext implements RpcContext {
  decisionId?: string;
  constructor(
    readonly identity: Identity,
    private readonly lazySignal: LazySignal,
  ) {}
  get signal(): AbortSignal {
    return this.lazySignal.get();
  }
}

function decisionIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const direct = (value as { decisionId?: unknown }).decisionId;
  if (typeof direct === 'string' && direct !== '') return direct;
  const nested = (value as { decision?: { decisionId?: unknown } }).decision?.decisionId;
  return typeof nested === 'string' && nested !== '' ? nested : undefined;
}

/**
 * Wraps handlers with what every RPC needs, in order: authentication, the role check, the
 * asserted-actor check, a cancellation signal (client cancel, deadline, shutdown), error
 * mapping, and one JSON log line.
 */
export function createRpcRuntime(options: {
  authenticate: Authenticator;
  logger: Logger;
  /** Response encoders by method: a unary response is encoded before its call is logged OK. */
  encoders?: ReadonlyMap<string, (value: unknown) => Buffer>;
  /** Metrics, tracing and the call scope; default: request ids and the caller's trace id only. */
  observer?: RpcObserver;
}): RpcRuntime {
  const { authenticate, logger, encoders } = options;
  const observer = options.observer ?? createRpcObserver({ tracing: noTracing });
  const streams = new Set<{ abort(reason: string): void }>();
  let inFlight = 0;

  interface Begun {
    readonly ctx: RpcContext;
    /** Fires the call's signal (now, or when a handler first asks for it). */
    readonly abort: (reason: Error) => void;
    /** Why the call's signal fired: the client went away, or the deadline passed. */
    readonly abortedBy: () => status.CANCELLED | status.DEADLINE_EXCEEDED | undefined;
    readonly cleanup: () => void;
  }

  function begin(method: string, call: AnyCall, request: unknown): Begun {
    const identity = authenticate({ metadata: call.metadata, peerCertificate: call.getAuthContext()?.sslPeerCertificate });
    if (!isAllowed(method, identity.roles)) {
      throw new NexusError(
        'PERMISSION_DENIED',
        `${identity.actor.id} may not call ${method} (requires one of: ${rolesFor(method).join(', ')})`,
        {
          method,
          actor: identity.actor.id,
        },
      );
    }
    const malformed = (request as { [MALFORMED]?: string } | null)?.[MALFORMED];
    if (malformed !== undefined) {
      throw new NexusError('INVALID_ARGUMENT', `the request is not a valid ${method} message: ${truncateText(malformed, 120)}`);
    }
    const badField = (request as { [INVALID_UTF8]?: string } | null)?.[INVALID_UTF8];
    if (badField !== undefined) {
      throw new NexusError('INVALID_ARGUMENT', `${badField} is not valid UTF-8`, { field: badField });
    }
    const rawActor = (request as { actor?: ProtoActor } | null)?.actor;
    const asserted = assertedActor(rawActor);
    // An actor type this server does not know can never be the caller's.
    const unknownType = rawActor !== undefined && rawActor.type !== ActorType.ACTOR_TYPE_UNSPECIFIED && asserted?.type === undefined;
    if (
      asserted &&
      (unknownType || asserted.id !== identity.actor.id || (asserted.type !== undefined && asserted.type !== identity.actor.type))
    ) {
      throw new NexusError(
        'PERMISSION_DENIED',
        `the request names actor ${quote(asserted.id)}, but the caller is ${quote(identity.actor.id)}`,
        {
          asserted: quote(asserted.id),
          actor: identity.actor.id,
        },
      );
    }
    const signal = createLazySignal();
    let abortedBy: status.CANCELLED | status.DEADLINE_EXCEEDED | undefined;
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const onCancel = () => {
      // A client resets the stream at its own deadline, a moment before the server's timer.
      abortedBy ??= Date.now() >= deadlineMs - DEADLINE_SLACK_MS ? status.DEADLINE_EXCEEDED : status.CANCELLED;
      signal.abort(new Error(abortedBy === status.DEADLINE_EXCEEDED ? 'deadline exceeded' : 'cancelled by the client'));
    };
    call.on('cancelled', onCancel);
    const timer = Number.isFinite(deadlineMs)
      ? setTimeout(
          () => {
            abortedBy ??= status.DEADLINE_EXCEEDED;
            signal.abort(new Error('deadline exceeded'));
          },
          Math.max(0, deadlineMs - Date.now()),
        )
      : undefined;
    const ctx = new CallContext(identity, signal);
    const id = decisionIdOf(request);
    if (id !== undefined) ctx.decisionId = id;
    return {
      ctx,
      abort: signal.abort,
      abortedBy: () => abortedBy,
      cleanup: () => {
        if (timer) clearTimeout(timer);
        call.removeListener('cancelled', onCancel);
      },
    };
  }

  function logCall(
    observed: ObservedCall,
    method: string,
    call: AnyCall,
    started: number,
    ctx: RpcContext | undefined,
    code: status,
    error?: { code: string; unexpected?: unknown },
  ) {
    observed.end(code, error?.code);
    const fields = {
      method,
      request_id: observed.requestId,
      trace_id: observed.traceId ?? null,
      actor: ctx?.identity.actor.id ?? null,
      status: status[code],
      duration_ms: performance.now() - started,
      decision_id: ctx?.decisionId ?? null,
      peer: call.getPeer(),
      ...(error ? { error_code: error.code } : {}),
      ...(error?.unexpected !== undefined ? { error: error.unexpected } : {}),
    };
    if (error?.unexpected !== undefined) logger.error('rpc', fields);
    else logger.info('rpc', fields);
  }

  return {
    active: () => inFlight,

    unary<Req, Res>(method: string, handler: UnaryHandler<Req, Res>): handleUnaryCall<Req, Res> {
      return (call, callback) => {
        const started = performance.now();
        const observed = observer.start(method, 'unary', call.metadata);
        inFlight++;
        let ctx: RpcContext | undefined;
        let begun: Begun | undefined;
        const finish = (error: unknown, response?: Res) => {
          inFlight--;
          begun?.cleanup();
          // The client has its answer already (CANCELLED or DEADLINE_EXCEEDED); log what it saw.
          const abortedBy = begun?.abortedBy();
          if (error === undefined) {
            if (ctx && ctx.decisionId === undefined) {
              const id = decisionIdOf(response);
              if (id !== undefined) ctx.decisionId = id;
            }
            // Encoded here, not by the transport after the log line: a response that cannot be
            // encoded is logged as the INTERNAL the client then receives, never as OK.
            let encoded: Buffer | undefined;
            const encode = encoders?.get(method);
            if (encode) {
              try {
                encoded = encode(response);
              } catch (encodeError) {
                const failed = toServiceError(encodeError);
                logCall(observed, method, call as AnyCall, started, ctx, abortedBy ?? failed.grpcCode, failed);
                callback(failed.response);
                return;
              }
            }
            logCall(observed, method, call as AnyCall, started, ctx, abortedBy ?? status.OK);
            callback(null, (encoded ?? response) as Res);
            return;
          }
          const mapped = toServiceError(error);
          logCall(observed, method, call as AnyCall, started, ctx, abortedBy ?? mapped.grpcCode, mapped);
          callback(mapped.response);
        };
        observed.run(() => {
          try {
            begun = begin(method, call as AnyCall, call.request);
            ctx = begun.ctx;
            handler(call.request, ctx).then(
              (response) => finish(undefined, response),
              (error: unknown) => finish(error),
            );
          } catch (error) {
            finish(error);
          }
        });
      };
    },

    serverStream<Req, Res>(method: string, handler: StreamHandler<Req, Res>): handleServerStreamingCall<Req, Res> {
      return (call) => {
        const started = performance.now();
        const observed = observer.start(method, 'server_stream', call.metadata);
        inFlight++;
        let ctx: RpcContext | undefined;
        let shutdownReason: string | undefined;
        const entry = {
          abort(reason: string) {
            shutdownReason = reason;
            begun?.abort(new Error(reason));
          },
        };
        let begun: Begun | undefined;
        const finish = (error: unknown) => {
          inFlight--;
          streams.delete(entry);
          begun?.cleanup();
          if (shutdownReason !== undefined) {
            logCall(observed, method, call as AnyCall, started, ctx, status.UNAVAILABLE);
            call.emit('error', {
              code: status.UNAVAILABLE,
              details: shutdownReason,
              metadata: new Metadata(),
            } satisfies Partial<ServerErrorResponse>);
            return;
          }
          const abortedBy = begun?.abortedBy();
          if (abortedBy !== undefined) {
            // The client went away or its deadline passed: it has its status already.
            logCall(observed, method, call as AnyCall, started, ctx, abortedBy);
            if (!call.cancelled) call.end();
            return;
          }
          if (error === undefined) {
            logCall(observed, method, call as AnyCall, started, ctx, status.OK);
            call.end();
            return;
          }
          const mapped = toServiceError(error);
          logCall(observed, method, call as AnyCall, started, ctx, mapped.grpcCode, mapped);
          call.emit('error', mapped.response);
        };
        observed.run(() => {
          try {
            begun = begin(method, call as AnyCall, call.request);
            ctx = begun.ctx;
            streams.add(entry);
            const signal = ctx.signal;
            const sink: StreamSink<Res> = {
              sendHeaders: (metadata) => call.sendMetadata(metadata),
              write: (message) =>
                new Promise<void>((resolve, reject) => {
                  if (signal.aborted) return reject(signal.reason);
                  if (call.write(message)) return resolve();
                  const onDrain = () => {
                    signal.removeEventListener('abort', onAbort);
                    resolve();
                  };
                  const onAbort = () => {
                    call.removeListener('drain', onDrain);
                    reject(signal.reason);
                  };
                  call.once('drain', onDrain);
                  signal.addEventListener('abort', onAbort, { once: true });
                }),
            };
            handler(call.request, ctx, sink).then(
              () => finish(undefined),
              (error: unknown) => finish(error),
            );
          } catch (error) {
            finish(error);
          }
        });
      };
    },

    closeStreams(reason: string) {
      for (const stream of [...streams]) stream.abort(reason);
    },
  };
}
