import { timestampFromText } from '@nexus-control/client';
import { formatTimestamp } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { timestampOut } from '../src/grpc/convert.js';

describe('timestampOut', () => {
  it('answers exactly what the general reader answers, for canonical instants and every other shape', () => {
    const texts = ['0001-01-01T00:00:00+00:00', '9999-12-31T23:59:59.999999+00:00', '1969-12-31T23:59:59.5Z', '2026-03-01T10:00:00-08:00'];
    for (let i = 0; i < 500; i++) texts.push(formatTimestamp(Math.floor((Math.random() * 2 - 0.5) * 4e15)));
    for (const text of texts) expect(timestampOut(text), text).toEqual(timestampFromText(text));
  });

  it('is undefined for an absent instant and for text that is not one', () => {
    expect(timestampOut(undefined)).toBeUndefined();
    expect(timestampOut(null)).toBeUndefined();
    expect(timestampOut('')).toBeUndefined();
    expect(timestampOut('2025-02-29T00:00:00+00:00')).toBeUndefined();
  });
});
