import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerErrorResponse,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNexusClient, type NexusClient } from '../src/createNexusClient.js';
import { encodeErrorStatus } from '../src/errorStatus.js';
import { DecisionServiceService, type WatchDecisionsRequest, type WatchDecisionsResponse } from '../src/gen/nexus/control/v1/decisions.js';
import { DiagnosticsServiceService, type EchoRequest, type EchoResponse } from '../src/gen/nexus/control/v1/diagnostics.js';
import { EventType } from '../src/gen/nexus/control/v1/types.js';
import { NexusClientError } from '../src/NexusClientError.js';
import { ERROR_CODE_TRAILER, STATUS_DETAILS_TRAILER } from '../src/wireNames.js';

// A stand-in server speaking the real wire protocol, so the wrapper is tested over a socket
// without the control plane: echo behaviours are driven by the message text.
const seen: { authorization?: string; cancelled: string[]; watchRequests: WatchDecisionsRequest[] } = { cancelled: [], watchRequests: [] };

function echo(call: ServerUnaryCall<EchoRequest, EchoResponse>, callback: sendUnaryData<EchoResponse>) {
  seen.authorization = call.metadata.get('authorization')[0] as string | undefined;
  const { message } = call.request;
  if (message === 'rich-error') {
    const trailer = new Metadata();
    trailer.set(
      STATUS_DETAILS_TRAILER,
      encodeErrorStatus({
        code: status.NOT_FOUND,
        message: 'no such decision',
        reason: 'DECISION_NOT_FOUND',
        metadata: { decisionId: 'd1' },
      }),
    );
    trailer.set(ERROR_CODE_TRAILER, 'DECISION_NOT_FOUND');
    callback({ code: status.NOT_FOUND, details: 'no such decision', metadata: trailer } as ServerErrorResponse);
    return;
  }
  if (message === 'plain-error') {
    const trailer = new Metadata();
    trailer.set(ERROR_CODE_TRAILER, 'CONCURRENCY_CONFLICT');
    callback({ code: status.ABORTED, details: 'lost a race', metadata: trailer } as ServerErrorResponse);
    return;
  }
  if (message.startsWith('sleep:')) {
    const timer = setTimeout(() => callback(null, call.request), Number(message.slice(6)));
    call.on('cancelled', () => {
      clearTimeout(timer);
      seen.cancelled.push(message);
    });
    return;
  }
  callback(null, call.request);
}

/** A scripted stream: caught_up at 41, an event, a periodic checkpoint, then an event every 10 ms. */
function watch(call: ServerWritableStream<WatchDecisionsRequest, WatchDecisionsResponse>) {
  seen.watchRequests.push(call.request);
  let position = 41;
  const event = (at: number): WatchDecisionsResponse => ({
    event: {
      eventId: `evt_d_${at}`,
      decisionId: call.request.decisionId || 'd',
      seq: at - 42,
      type: EventType.EVENT_TYPE_APPROVAL_GRANTED,
      ts: undefined,
      recordedTs: '',
      actor: undefined,
      payloadJson: '{}',
      digest: '',
      checkpoint: String(at),
      generation: 0,
    },
  });
  call.write({ caughtUp: { checkpoint: String(position) } });
  call.write(event(++position));
  call.write({ checkpoint: { checkpoint: String(++position) } });
  const timer = setInterval(() => call.write(event(++position)), 10);
  call.on('cancelled', () => {
    clearInterval(timer);
    seen.cancelled.push('watch');
  });
}

let server: Server;
let address: string;
let client: NexusClient;

beforeAll(async () => {
  server = new Server();
  server.addService(DiagnosticsServiceService, {
    echo,
    whoAmI: (_call: unknown, cb: sendUnaryData<never>) => cb({ code: status.UNIMPLEMENTED }),
  });
  server.addService(DecisionServiceService, { watchDecisions: watch } as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  address = `127.0.0.1:${port}`;
  client = createNexusClient({ address, token: 'secret-token' });
});

afterAll(() => {
  client.close();
  server.forceShutdown();
});

describe('createNexusClient', () => {
  it('sends the bearer token on every call and resolves with the response message', async () => {
    const response = await client.echo({ message: 'hello', payload: Buffer.from([1, 2, 3]) });
    expect(response.message).toBe('hello');
    expect([...response.payload]).toEqual([1, 2, 3]);
    expect(seen.authorization).toBe('Bearer secret-token');
  });

  it('a rich error status becomes a NexusClientError carrying the domain code, the gRPC code and the details', async () => {
    const error = await client.echo({ message: 'rich-error' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NexusClientError);
    expect(error).toMatchObject({
      code: 'DECISION_NOT_FOUND',
      grpcCode: status.NOT_FOUND,
      fromServer: true,
      details: { decisionId: 'd1' },
    });
    expect((error as NexusClientError).grpcStatusName).toBe('NOT_FOUND');
  });

  it('without rich status the plain nexus-error-code trailer still gives the domain code', async () => {
    const error = await client.echo({ message: 'plain-error' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONCURRENCY_CONFLICT', grpcCode: status.ABORTED, fromServer: true });
  });

  it('a transport failure carries the gRPC status name as its code', async () => {
    const unreachable = createNexusClient({ address: '127.0.0.1:1', deadlineMs: 2_000 });
    try {
      const error = await unreachable.echo({ message: 'x' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', grpcCode: status.UNAVAILABLE, fromServer: false });
    } finally {
      unreachable.close();
    }
  });

  it('unary calls get the default deadline, and a call may set its own', async () => {
    const hasty = createNexusClient({ address, deadlineMs: 100 });
    try {
      const started = Date.now();
      await expect(hasty.echo({ message: 'sleep:2000' })).rejects.toMatchObject({
        code: 'DEADLINE_EXCEEDED',
        grpcCode: status.DEADLINE_EXCEEDED,
      });
      expect(Date.now() - started).toBeLessThan(1_500);
      await expect(hasty.echo({ message: 'sleep:300' }, { deadlineMs: 5_000 })).resolves.toMatchObject({ message: 'sleep:300' });
    } finally {
      hasty.close();
    }
  });

  it('aborting the signal cancels the call on the server and rejects with CANCELLED', async () => {
    const controller = new AbortController();
    const pending = client.echo({ message: 'sleep:5000' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED', grpcCode: status.CANCELLED });
    await expect.poll(() => seen.cancelled).toContain('sleep:5000');
    await expect(client.echo({ message: 'x' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('a watch yields caught_up, events and checkpoints in stream order with their tokens, and ends quietly when cancelled', async () => {
    seen.watchRequests = [];
    const stream = client.watchDecisions({ decisionId: 'd7', after: '40', checkpointIntervalMs: 250 });
    const items: string[] = [];
    for await (const item of stream) {
      if (item.type === 'event') {
        expect(item.event.decisionId).toBe('d7');
        items.push(`event ${item.event.checkpoint}`);
      } else {
        items.push(`${item.type} ${item.checkpoint}`);
      }
      if (items.length === 4) stream.cancel();
    }
    expect(items).toEqual(['caught_up 41', 'event 42', 'checkpoint 43', 'event 44']);
    expect(seen.watchRequests[0]).toMatchObject({ decisionId: 'd7', after: '40', checkpointIntervalMs: 250 });
    await expect.poll(() => seen.cancelled).toContain('watch');
  });

  it('breaking out of a watch loop cancels the stream on the server', async () => {
    seen.cancelled = [];
    const stream = client.watchDecisions({});
    for await (const item of stream) {
      expect(item).toEqual({ type: 'caught_up', checkpoint: '41' });
      break;
    }
    await expect.poll(() => seen.cancelled).toContain('watch');
  });
});
