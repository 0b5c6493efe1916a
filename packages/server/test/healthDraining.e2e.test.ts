import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { startTestServer } from './helpers/testServer.js';

const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

describe('health while draining', () => {
  it('a service’s health watcher sees NOT_SERVING as soon as shutdown begins, before in-flight calls finish', async () => {
    const t = await startTestServer();
    const raw = new Client(t.server.address, credentials.createInsecure());
    try {
      for (const service of ['', 'nexus.control.v1.DecisionService']) {
        const seen: string[] = [];
        const request = service === '' ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, service.length]), Buffer.from(service)]);
        const stream = raw.makeServerStreamRequest(
          '/grpc.health.v1.Health/Watch',
          (v: Buffer) => v,
          (v: Buffer) => v,
          request,
          new Metadata(),
        );
        stream.on('data', (message: Buffer) => seen.push(STATUS[message.length === 0 ? 0 : message[1]!]!));
        stream.on('error', () => {});
        await expect.poll(() => seen, { timeout: 5_000 }).toEqual(['SERVING']);
        if (service !== '') {
          const stopping = t.server.shutdown(500);
          await expect.poll(() => seen, { timeout: 5_000 }).toEqual(['SERVING', 'NOT_SERVING']);
          await stopping;
        } else stream.cancel();
      }
    } finally {
      raw.close();
      await t.close();
    }
  });
});
