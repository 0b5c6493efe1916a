import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NexusError } from '@nexus-control/core';
import type { DocumentTasks } from './documentTasks.js';
import { runTaskMessage, type TaskMessage, type TaskName, type TaskOutcome } from './runTaskMessage.js';

export interface DocumentRunnerOptions {
  /** Documents up to this many characters run on the event loop (a worker costs more than they do). */
  readonly inlineMaxChars?: number;
  /** Document processes running at once; further large documents wait their turn. */
  readonly maxWorkers?: number;
  /** Heap per document process: this many bytes per character of the document, plus a fixed base. */
  readonly heapBytesPerChar?: number;
}

type TaskValue<K extends TaskName> = Awaited<ReturnType<DocumentTasks[K]>>;

export interface DocumentRunner {
  run<K extends TaskName>(task: K, input: Parameters<DocumentTasks[K]>[0], size: number): Promise<TaskValue<K>>;
}

const BASE_HEAP_MB = 64;
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER_ENTRY = fileURLToPath(new URL(FROM_SOURCES ? './documentWorker.ts' : './documentWorker.js', import.meta.url));

/**
 * Built, the document process is plain JavaScript next to this module. From the TypeScript
 * sources (tests, development) it needs tsx, and the workspace packages' source condition so
 * that it runs the same code as its parent.
 */
function loaderArgs(): string[] {
  if (!FROM_SOURCES) return [];
  let tsx: string;
  try {
    tsx = createRequire(import.meta.url).resolve('tsx');
  } catch (error) {
    throw new NexusError('INTERNAL', 'running the server from its TypeScript sources needs the tsx package', {}, { cause: error });
  }
  return [`--import=${pathToFileURL(tsx).href}`, '--conditions=@nexus-control/source'];
}

/**
 * Runs document tasks so that no client's document can stall the others: small ones inline,
 * large ones in a process of their own whose heap is capped at a small multiple of the
 * document's size (README "Field limits and hostile input"). A document that needs more ends its own call
 * with INVALID_ARGUMENT; the process and the other calls never notice.
 */
export function createDocumentRunner(options: DocumentRunnerOptions = {}): DocumentRunner {
  const inlineMaxChars = options.inlineMaxChars ?? 256 * 1024;
  const maxWorkers = options.maxWorkers ?? 2;
  const heapBytesPerChar = options.heapBytesPerChar ?? 24;
  let running = 0;
  const waiting: (() => void)[] = [];

  async function slot(): Promise<() => void> {
    if (running >= maxWorkers) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    return () => {
      running--;
      waiting.shift()?.();
    };
  }

  function inWorker(message: TaskMessage, size: number): Promise<TaskOutcome> {
    const heapMb = BASE_HEAP_MB + Math.ceil((size * heapBytesPerChar) / (1024 * 1024));
    return new Promise<TaskOutcome>((resolve) => {
      // A process, not a worker thread: running out of a worker thread's heap can take the
      // whole process down, while a child's heap limit only ever ends the child.
      const child = fork(WORKER_ENTRY, [], {
        execArgv: [...loaderArgs(), `--max-old-space-size=${heapMb}`],
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < 4096) stderr += chunk;
      });
      let settled = false;
      const settle = (outcome: TaskOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
        if (child.exitCode === null) child.kill();
      };
      child.on('message', (reply: TaskOutcome | { kind: 'ready' }) => {
        if (reply.kind === 'ready') child.send(message);
        else settle(reply);
      });
      child.once('error', (error) => settle({ kind: 'crash', message: error.message }));
      child.once('exit', (code, signal) =>
        settle(
          /heap out of memory|Reached heap limit/.test(stderr)
            ? {
                kind: 'failure',
                code: 'INVALID_ARGUMENT',
                message: `the document needs more than ${heapMb} MB of memory to process`,
                details: { limitMb: heapMb },
              }
            : { kind: 'crash', message: `the document process exited (${signal ?? code})` },
        ),
      );
    });
  }

  return {
    async run<K extends TaskName>(task: K, input: Parameters<DocumentTasks[K]>[0], size: number): Promise<TaskValue<K>> {
      const message = { task, input } as TaskMessage;
      let outcome: TaskOutcome;
      if (size <= inlineMaxChars) {
        outcome = await runTaskMessage(message);
      } else {
        const release = await slot();
        try {
          outcome = await inWorker(message, size);
        } finally {
          release();
        }
      }
      if (outcome.kind === 'failure') throw new NexusError(outcome.code, outcome.message, outcome.details);
      if (outcome.kind === 'crash') throw new Error(`document task ${task} failed: ${outcome.message}`);
      return outcome.value as TaskValue<K>;
    },
  };
}
