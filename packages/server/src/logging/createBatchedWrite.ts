/** Past this many pending characters the batch goes out at once rather than at the end of the turn. */
const MAX_PENDING_CHARS = 64 * 1024;

/**
 * Gathers the lines written during one turn of the event loop and hands them on in one write:
 * a busy server logs a line per call, and a write to a pipe is a system call on the event loop,
 * so one per turn costs a fraction of one per line. What is pending goes out synchronously
 * when the process exits; only a kill -9 can lose it, and then at most one turn's lines.
 */
export function createBatchedWrite(write: (text: string) => void): (line: string) => void {
  let pending: string[] = [];
  let pendingChars = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    pendingChars = 0;
    write(text);
  };
  process.once('exit', flush);
  return (line) => {
    pending.push(line);
    pendingChars += line.length;
    if (pendingChars >= MAX_PENDING_CHARS) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
