import type { Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Server } from '@grpc/grpc-js';
import { AUTHORIZATION_HEADER } from '@nexus-control/client';

/**
 * HTTP/2 keeps only the first of repeated `authorization` headers, so the authenticator never
 * learns there was a second: a request carrying two could be read one way here and another
 * way by a proxy. Before the gRPC runtime reads a stream's headers, every value is put back,
 * and the authenticator refuses more than one with UNAUTHENTICATED.
 *
 * The HTTP/2 servers are the gRPC server's own (not part of its public API); if they cannot be
 * found, this throws rather than silently serving without the check.
 */
export function refuseRepeatedAuthorization(server: Server): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map)) throw new Error('cannot reach the HTTP/2 servers of the gRPC server');
  for (const http2Server of http2Servers.keys()) {
    http2Server.prependListener(
      'stream',
      (_stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
        const values: string[] = [];
        for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
          if ((rawHeaders[i] as string).toLowerCase() === AUTHORIZATION_HEADER) values.push(rawHeaders[i + 1] as string);
        }
        if (values.length > 1) (headers as Record<string, string | string[]>)[AUTHORIZATION_HEADER] = values;
      },
    );
  }
}
