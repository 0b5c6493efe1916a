import { readFile, writeFile } from 'node:fs/promises';
import { UsageError } from './UsageError.js';

/** Reads a text file, or standard input for '-'; an unreadable file is a usage error. */
export async function readTextInput(path: string, what: string): Promise<string> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Writes a document with a final newline; an unwritable path is a usage error. */
export async function writeTextOutput(path: string, text: string, what: string): Promise<void> {
  try {
    await writeFile(path, text.endsWith('\n') ? text : text + '\n', 'utf8');
  } catch (error) {
    throw new UsageError(`cannot write ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
