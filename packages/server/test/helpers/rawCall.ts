import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { decodeErrorStatus, ERROR_CODE_TRAILER, STATUS_DETAILS_TRAILER } from '@nexus-control/client';

/** What came back for a raw call: the status, the domain code and details if any, the response bytes on success. */
export interface RawResult {
  readonly code: status;
  readonly message: string;
  readonly domainCode: string | undefined;
  readonly details: Record<string, string>;
  /** Total bytes of trailing metadata values (what a client's metadata limit counts). */
  readonly trailerBytes: number;
  readonly response?: Buffer;
}

/**
 * A unary call with a hand-made request body: the wire as another language's client (or an
 * attacker) may write it, with no generated encoder in the way.
 */
export function rawUnary(
  client: Client,
  path: string,
  body: Uint8Array,
  headers: readonly [string, string][] = [],
  deadlineMs = 30_000,
): Promise<RawResult> {
  const metadata = new Metadata();
  for (const [key, value] of headers) metadata.add(key, value);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (value: Uint8Array) => Buffer.from(value),
      (bytes: Buffer) => bytes,
      body,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (error: ServiceError | null, response?: Buffer) => {
        if (!error) {
          resolve({ code: status.OK, message: '', domainCode: undefined, details: {}, trailerBytes: 0, ...(response ? { response } : {}) });
          return;
        }
        const trailers = error.metadata ?? new Metadata();
        const code = trailers.get(ERROR_CODE_TRAILER)[0];
        const bin = trailers.get(STATUS_DETAILS_TRAILER)[0];
        const decoded = bin === undefined ? undefined : decodeErrorStatus(typeof bin === 'string' ? Buffer.from(bin, 'base64') : bin);
        let trailerBytes = 0;
        for (const values of Object.values(trailers.getMap())) trailerBytes += typeof values === 'string' ? values.length : values.length;
        resolve({
          code: error.code,
          message: error.details,
          domainCode: typeof code === 'string' ? code : undefined,
          details: decoded?.metadata ?? {},
          trailerBytes,
        });
      },
    );
  });
}

export function rawClient(address: string): Client {
  return new Client(address, credentials.createInsecure());
}

/** Protobuf wire helpers: enough to write any request by hand. */
export function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

export function lengthDelimited(field: number, bytes: Uint8Array | number[]): number[] {
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}

export function stringField(field: number, text: string): number[] {
  return lengthDelimited(field, [...Buffer.from(text, 'utf8')]);
}

export function varintField(field: number, value: number): number[] {
  return [...varint(field << 3), ...varint(value)];
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK "literal header field without indexing, new name", lengths below 127, no Huffman coding. */
function hpackLiteral(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'latin1');
  const v = Buffer.from(value, 'latin1');
  if (n.length > 126 || v.length > 126) throw new Error('header too long for this encoder');
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

/**
 * One gRPC call written as raw HTTP/2 frames, for what no HTTP/2 library will send (two
 * `authorization` headers, say). Resolves when the server closes the stream or after `waitMs`.
 */
export async function rawHttp2Call(
  address: string,
  path: string,
  headers: readonly [string, string][],
  body: Uint8Array,
  waitMs = 2_000,
): Promise<void> {
  const { connect } = await import('node:net');
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket = connect(port, host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const block = Buffer.concat([
    hpackLiteral(':method', 'POST'),
    hpackLiteral(':scheme', 'http'),
    hpackLiteral(':path', path),
    hpackLiteral(':authority', address),
    hpackLiteral('content-type', 'application/grpc'),
    hpackLiteral('te', 'trailers'),
    ...headers.map(([name, value]) => hpackLiteral(name, value)),
  ]);
  const message = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), Buffer.from(body)]);
  message.writeUInt32BE(body.length, 1);
  socket.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
  socket.write(frame(0x4, 0, 0, Buffer.alloc(0)));
  socket.write(frame(0x1, 0x4, 1, block));
  socket.write(frame(0x0, 0x1, 1, message));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    socket.on('data', (chunk: Buffer) => {
      // A frame of the response that ends stream 1 (HEADERS with END_STREAM: the trailers).
      for (let at = 0; at + 9 <= chunk.length;) {
        const length = chunk.readUIntBE(at, 3);
        if (chunk.readUInt8(at + 3) === 0x1 && (chunk.readUInt8(at + 4) & 0x1) !== 0 && chunk.readUInt32BE(at + 5) === 1) {
          clearTimeout(timer);
          resolve();
        }
        at += 9 + length;
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.destroy();
}
