import { isIP } from 'node:net';

export const DEFAULT_LISTEN = '127.0.0.1:50051';

export interface ListenAddress {
  /** As grpc-js binds it. */
  readonly target: string;
  readonly host: string;
  readonly port: number;
  readonly loopback: boolean;
}

export class ListenAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenAddressError';
  }
}

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** `HOST:PORT`, `[IPv6]:PORT` or `unix:PATH`; port 0 picks a free port. */
export function parseListenAddress(text: string): ListenAddress {
  if (text.startsWith('unix:')) {
    if (text.length <= 'unix:'.length) throw new ListenAddressError('unix: needs a socket path');
    return { target: text, host: text, port: 0, loopback: true };
  }
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) throw new ListenAddressError(`--listen '${text}' is not HOST:PORT (e.g. 127.0.0.1:50051, [::1]:50051)`);
  const host = (match[1] ?? match[2]) as string;
  const port = Number(match[3]);
  if (port > 65535) throw new ListenAddressError(`--listen '${text}': port ${port} is out of range`);
  if (match[1] !== undefined && isIP(host) !== 6) throw new ListenAddressError(`--listen '${text}': '${host}' is not an IPv6 address`);
  const target = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return { target, host, port, loopback: isLoopbackHost(host) };
}

export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
