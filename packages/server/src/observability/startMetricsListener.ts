import { createServer, type Server } from 'node:http';
import { ListenAddressError, formatAddress, parseListenAddress } from '../listenAddress.js';
import type { ServerMetrics } from './createMetrics.js';

export interface MetricsListener {
  /** `HOST:PORT` actually bound. */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves the Prometheus text format at `GET /metrics` on its own HTTP listener: never on the
 * gRPC port, and only when configured. Everything else is 404.
 */
export async function startMetricsListener(metrics: ServerMetrics, listen: string): Promise<MetricsListener> {
  const address = parseListenAddress(listen);
  if (address.target.startsWith('unix:')) throw new ListenAddressError('metrics.listen must be HOST:PORT');
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
  return {
    address: formatAddress(address.host, port),
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
