import { describe, expect, it } from 'vitest';
import { newDecisionId } from '../../src/domain/newDecisionId.js';
import { validateDecisionId } from '../../src/domain/validation.js';

const UUID_V7_HEX = /^dec_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/;

describe('newDecisionId', () => {
  it('is_dec_and_a_version_7_uuid_in_32_lowercase_hex_digits_that_the_id_rules_accept', () => {
    for (let i = 0; i < 1000; i++) {
      const id = newDecisionId();
      expect(id).toMatch(UUID_V7_HEX);
      expect(() => validateDecisionId(id)).not.toThrow();
    }
  });

  it('starts_with_the_creation_time_in_milliseconds', () => {
    expect(newDecisionId(0x0123456789ab).slice(0, 17)).toBe('dec_0123456789ab7');
    expect(newDecisionId(0).slice(0, 16)).toBe('dec_000000000000');
    const before = Date.now();
    const id = newDecisionId();
    const after = Date.now();
    const stamped = parseInt(id.slice(4, 16), 16);
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(after);
  });

  it('ids_of_later_milliseconds_sort_after_earlier_ones_whatever_their_random_part', () => {
    const start = Date.UTC(2026, 10, 30, 12);
    const ids = Array.from({ length: 500 }, (_, i) => newDecisionId(start + i * 7));
    expect([...ids].sort()).toEqual(ids);
  });

  it('ids_of_the_same_millisecond_are_all_distinct', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => newDecisionId(now)));
    expect(ids.size).toBe(10_000);
  });

  it('an_instant_outside_48_bits_still_gives_a_well_formed_id', () => {
    for (const instant of [-1, 2 ** 48, 2 ** 53, 1.5]) expect(newDecisionId(instant)).toMatch(UUID_V7_HEX);
  });
});
