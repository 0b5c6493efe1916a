import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/**
 * Tests that stop the server (lost connection) or need a standalone one start their own copy
 * of the wire emulator named by MONGO_EMULATOR (CI sets it); a shared replica set given by
 * MONGODB_URL cannot be stopped by a test. Unset: those tests are skipped and say why.
 */
export const EMULATOR_SCRIPT = process.env.MONGO_EMULATOR ?? '';
export const EMULATOR_SKIP_REASON = 'MONGO_EMULATOR is not set: tests that stop the server need an emulator of their own';
const PYTHON = process.env.MONGO_EMULATOR_PYTHON ?? '/usr/bin/python3';

let warned = false;
export function emulatorAvailable(): boolean {
  if (EMULATOR_SCRIPT === '' && !warned) {
    warned = true;
    console.warn(`store-mongo: skipped, ${EMULATOR_SKIP_REASON}`);
  }
  return EMULATOR_SCRIPT !== '';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`the emulator did not open port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface OwnEmulator {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: the emulator keeps nothing across restarts). */
  start(): Promise<void>;
}

export async function startOwnEmulator(options: { readonly replicaSet: boolean }): Promise<OwnEmulator> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const emulator: OwnEmulator = {
    port,
    url: `mongodb://127.0.0.1:${port}/${options.replicaSet ? '?replicaSet=rs0' : ''}`,
    async start() {
      const args = [EMULATOR_SCRIPT, String(port), ...(options.replicaSet ? ['--replset'] : [])];
      child = spawn(PYTHON, args, { stdio: 'ignore' });
      await waitForPort(port);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (running === undefined || running.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.kill('SIGKILL');
      });
    },
  };
  await emulator.start();
  return emulator;
}
