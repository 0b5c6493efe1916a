import { Counter, Histogram, Registry, type OpenMetricsContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCounter, createCounterFamily } from '../src/observability/createCounterFamily.js';
import { createHistogramFamily } from '../src/observability/createHistogramFamily.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
/** Label values that need escaping in the text format, next to plain ones. */
const AWKWARD = { method: 'Say "hi"\\now\nplease', code: 'OK' };

describe('the server’s own metric families', () => {
  it('a labelled counter renders exactly what a prom-client counter renders after the same increments', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const family = createCounterFamily({ name: 'calls_total', help: 'Calls.', labelNames: ['method', 'code'], registers: [ours] });
    const reference = new Counter({ name: 'calls_total', help: 'Calls.', labelNames: ['method', 'code'], registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics());

    const kept = family.labels({ method: 'Approve', code: 'OK' });
    kept.inc();
    kept.inc(2.5);
    family.inc(AWKWARD);
    family.inc({ code: 'ABORTED', method: 'Approve' }, 0);
    reference.inc({ method: 'Approve', code: 'OK' });
    reference.inc({ method: 'Approve', code: 'OK' }, 2.5);
    reference.inc(AWKWARD);
    reference.inc({ method: 'Approve', code: 'ABORTED' }, 0);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('a counter without labels renders at zero from the start, as prom-client’s does', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const count = createCounter({ name: 'made_total', help: 'Made.', registers: [ours] });
    const reference = new Counter({ name: 'made_total', help: 'Made.', registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    count.inc(3);
    reference.inc(3);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('a histogram renders exactly what a prom-client histogram renders, bounds and overflow included', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const family = createHistogramFamily({
      name: 'wait_seconds',
      help: 'Waits.',
      labelNames: ['method'],
      buckets: BUCKETS,
      registers: [ours],
    });
    const reference = new Histogram({
      name: 'wait_seconds',
      help: 'Waits.',
      labelNames: ['method'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    // Below the first bound, exactly on bounds, between them, above the last one.
    const values = [0, 0.0005, 0.001, 0.0011, 0.01, 0.05, 0.1, 0.99, 1, 7.5];
    const fast = family.labels({ method: 'Approve' });
    for (const value of values) {
      fast.observe(value);
      reference.observe({ method: 'Approve' }, value);
    }
    family.labels({ method: AWKWARD.method }).observe(0.02);
    reference.observe({ method: AWKWARD.method }, 0.02);
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('wait_seconds_bucket{le="0.001",method="Approve"} 3');
    expect(text).toContain('wait_seconds_bucket{le="+Inf",method="Approve"} 10');
  });

  it('renders as prom-client’s own in the OpenMetrics format too, where counters lose and regain _total', async () => {
    const ours = new Registry<OpenMetricsContentType>();
    const theirs = new Registry<OpenMetricsContentType>();
    ours.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    theirs.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    createCounterFamily({ name: 'calls_total', help: 'Calls.', labelNames: ['method'], registers: [ours] }).inc({ method: 'Approve' }, 2);
    new Counter({ name: 'calls_total', help: 'Calls.', labelNames: ['method'], registers: [theirs] }).inc({ method: 'Approve' }, 2);
    createHistogramFamily({ name: 'wait_seconds', help: 'Waits.', labelNames: [], buckets: BUCKETS, registers: [ours] })
      .labels({})
      .observe(0.5);
    new Histogram({ name: 'wait_seconds', help: 'Waits.', buckets: BUCKETS, registers: [theirs] }).observe(0.5);
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('calls_total{method="Approve"} 2');
  });

  it('a reset registry zeroes every series, and a series kept across the reset counts on, as prom-client’s children do', async () => {
    const ours = new Registry();
    const family = createCounterFamily({ name: 'calls_total', help: 'Calls.', labelNames: ['method'], registers: [ours] });
    const histogram = createHistogramFamily({
      name: 'wait_seconds',
      help: 'Waits.',
      labelNames: ['method'],
      buckets: BUCKETS,
      registers: [ours],
    });
    const made = createCounter({ name: 'made_total', help: 'Made.', registers: [ours] });
    const kept = family.labels({ method: 'Approve' });
    const keptWait = histogram.labels({ method: 'Approve' });
    kept.inc(5);
    keptWait.observe(0.5);
    made.inc(3);
    ours.resetMetrics();
    let text = await ours.metrics();
    expect(text).toContain('calls_total{method="Approve"} 0');
    expect(text).toContain('wait_seconds_count{method="Approve"} 0');
    expect(text).toContain('wait_seconds_bucket{le="1",method="Approve"} 0');
    expect(text).toContain('made_total 0');
    kept.inc();
    keptWait.observe(0.05);
    made.inc();
    text = await ours.metrics();
    expect(text).toContain('calls_total{method="Approve"} 1');
    expect(text).toContain('wait_seconds_count{method="Approve"} 1');
    expect(text).toContain('wait_seconds_bucket{le="0.1",method="Approve"} 1');
    expect(text).toContain('made_total 1');
  });

  it('refuses what no counter or histogram can mean, and changes nothing', async () => {
    const ours = new Registry();
    const count = createCounter({ name: 'made_total', help: 'Made.', registers: [ours] });
    count.inc(2);
    for (const by of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => count.inc(by)).toThrow(TypeError);
    const histogram = createHistogramFamily({ name: 'wait_seconds', help: 'Waits.', labelNames: [], buckets: BUCKETS, registers: [ours] });
    for (const value of [Number.NaN, Number.NEGATIVE_INFINITY]) expect(() => histogram.labels({}).observe(value)).toThrow(TypeError);
    const text = await ours.metrics();
    expect(text).toContain('made_total 2');
    expect(text).toContain('wait_seconds_count 0');
    expect(() => createHistogramFamily({ name: 'bad_seconds', help: 'Bad.', labelNames: [], buckets: [1, 0.5], registers: [] })).toThrow(
      TypeError,
    );
  });
});
