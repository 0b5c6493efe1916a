export type SpanAttributes = Record<string, string | number | boolean>;

/** OTLP span kinds this server records. */
export const SPAN_KIND_INTERNAL = 1;
export const SPAN_KIND_SERVER = 2;

/** One span as this server records it: plain data, turned into OTLP only when exported. */
export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: typeof SPAN_KIND_INTERNAL | typeof SPAN_KIND_SERVER;
  /** Milliseconds since the epoch, with the clock's sub-millisecond part. */
  readonly startMs: number;
  endMs: number;
  /**
   * The span's attributes. A frozen object is taken to be shared by every span of its kind (the
   * store operation's, the RPC method's), and its OTLP text is written once.
   */
  readonly attributes: Readonly<SpanAttributes>;
  /** Attributes of this span alone, written after `attributes`. */
  readonly ownAttributes?: Readonly<SpanAttributes>;
  /** Set when the work failed: the span's status is then ERROR with this message. */
  error?: string;
}
