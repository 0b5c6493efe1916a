import pg from 'pg';

/**
 * Cross-process wake-ups over LISTEN/NOTIFY. A NOTIFY inside the append transaction would
 * serialize every notifying commit on the database's notification lock, so appends stay free
 * of it: after a commit the store announces on its own, coalescing (one NOTIFY in flight per
 * process, one more if appends happened meanwhile, at most one per MIN_NOTIFY_INTERVAL_MS). Listeners only learn that new events may
 * exist; they read the feed, so a lost notification costs latency, never events.
 */
export interface Notifier {
  /** Starts listening (idempotent); reconnects until stopped. */
  start(): void;
  stop(): void;
  /** Tells every process listening on the channel that events were appended. */
  announce(): void;
  close(): Promise<void>;
}

export interface NotifierOptions {
  readonly clientConfig: pg.ClientConfig;
  /** At most 63 bytes (a PostgreSQL identifier). */
  readonly channel: string;
  /** Called on every notification, and after a reconnect (notifications may have been missed). */
  readonly wake: () => void;
}

const MAX_BACKOFF_MS = 5000;
/**
 * The least time between two NOTIFYs of one process: under load every append would
 * otherwise add a transaction of its own; a watcher's wake-up waits at most this long.
 */
const MIN_NOTIFY_INTERVAL_MS = 20;

export function createNotifier(options: NotifierOptions): Notifier {
  const { clientConfig, channel, wake } = options;
  const listenSql = `LISTEN "${channel.replace(/"/g, '""')}"`;
  // A notification is no durable fact (readers go by the feed), so its transaction does not
  // wait for a disk flush: one simple query, SET LOCAL and NOTIFY in one implicit transaction.
  const notifySql = `SET LOCAL synchronous_commit TO off; SELECT pg_notify('${channel.replace(/'/g, "''")}', '')`;
  let wanted = false;
  let closed = false;
  let client: pg.Client | undefined;
  let backoff = 100;
  let retry: NodeJS.Timeout | undefined;
  let inFlight = false;
  /** Set once a listening connection was lost: the next one may have missed notifications. */
  let missed = false;
  let pending = false;

  function scheduleReconnect(): void {
    if (!wanted || closed || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect();
    }, backoff);
    retry.unref();
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }

  function connect(): void {
    if (!wanted || closed || client !== undefined) return;
    const listener = new pg.Client(clientConfig);
    client = listener;
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      if (client === listener) client = undefined;
      missed = true;
      listener.end().catch(() => undefined);
      scheduleReconnect();
    };
    listener.on('error', drop);
    listener.on('end', drop);
    listener.on('notification', (message) => {
      if (message.channel === channel) wake();
    });
    listener
      .connect()
      .then(() => listener.query(listenSql))
      .then(() => {
        backoff = 100;
        // Anything appended while not listening would otherwise wait for the next poll.
        if (missed) {
          missed = false;
          wake();
        }
      }, drop);
  }

  /** Its own connection, so announcing never takes a pooled connection from an append. */
  let sender: pg.Client | undefined;

  async function notifyOnce(): Promise<void> {
    if (sender === undefined) {
      const client = new pg.Client(clientConfig);
      client.on('error', () => {
        if (sender === client) sender = undefined;
      });
      sender = client;
      try {
        await client.connect();
      } catch (error) {
        if (sender === client) sender = undefined;
        throw error;
      }
    }
    await sender.query(notifySql);
  }

  let lastSent = 0;

  function send(): void {
    inFlight = true;
    pending = false;
    lastSent = Date.now();
    notifyOnce().then(
      () => finish(),
      () => {
        // Lost: listeners still poll. The next append tries a new connection.
        const broken = sender;
        sender = undefined;
        broken?.end().catch(() => undefined);
        finish();
      },
    );
  }

  function finish(): void {
    if (!pending || closed) {
      inFlight = false;
      return;
    }
    // Still in flight until the next one goes: appends meanwhile only set `pending`.
    const wait = lastSent + MIN_NOTIFY_INTERVAL_MS - Date.now();
    if (wait <= 0) send();
    else setTimeout(() => (closed ? (inFlight = false) : send()), wait).unref();
  }

  return {
    start() {
      wanted = true;
      connect();
    },
    stop() {
      wanted = false;
      missed = false;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      const current = client;
      client = undefined;
      current?.removeAllListeners('end');
      current?.end().catch(() => undefined);
    },
    announce() {
      if (closed) return;
      if (inFlight) pending = true;
      else send();
    },
    async close() {
      closed = true;
      this.stop();
      while (inFlight) await new Promise((resolve) => setTimeout(resolve, 5));
      await sender?.end().catch(() => undefined);
      sender = undefined;
    },
  };
}
