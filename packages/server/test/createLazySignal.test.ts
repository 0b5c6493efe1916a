import { describe, expect, it } from 'vitest';
import { createLazySignal } from '../src/grpc/createLazySignal.js';

describe('createLazySignal', () => {
  it('a_signal_asked_for_before_the_abort_fires_with_its_reason', () => {
    const lazy = createLazySignal();
    const signal = lazy.get();
    const heard: unknown[] = [];
    signal.addEventListener('abort', () => heard.push(signal.reason));
    expect(signal.aborted).toBe(false);
    const reason = new Error('cancelled by the client');
    lazy.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(heard).toEqual([reason]);
  });

  it('a_signal_asked_for_after_the_abort_is_already_aborted_with_that_reason', () => {
    const lazy = createLazySignal();
    const reason = new Error('deadline exceeded');
    lazy.abort(reason);
    const signal = lazy.get();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });

  it('the_first_reason_wins_and_every_ask_gets_the_same_signal', () => {
    const lazy = createLazySignal();
    const first = new Error('deadline exceeded');
    lazy.abort(first);
    lazy.abort(new Error('cancelled by the client'));
    expect(lazy.get()).toBe(lazy.get());
    expect(lazy.get().reason).toBe(first);
  });
});
