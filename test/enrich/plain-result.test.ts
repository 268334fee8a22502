import { describe, expect, it } from 'vitest';
import { plainResult } from '../../src/enrich/plain-result.ts';

describe('plainResult', () => {
  it('turns typed arrays into arrays of numbers, at any depth, and leaves the rest alone', () => {
    const buffer = Buffer.from('hi');
    const input = {
      embedding: new Float32Array([0.5, -1]),
      nested: [{ ids: new Int32Array([1, 2]) }, 'x'],
      big: new BigInt64Array([3n]),
      buffer,
      untouched: { a: 1 },
    };
    const out = plainResult(input) as Record<string, unknown>;
    expect(JSON.parse(JSON.stringify(out))).toEqual({
      embedding: [0.5, -1],
      nested: [{ ids: [1, 2] }, 'x'],
      big: [3],
      buffer: { type: 'Buffer', data: [104, 105] },
      untouched: { a: 1 },
    });
    expect(out['untouched']).toBe(input.untouched);
    expect(out['buffer']).toBe(buffer);
    // The handler's own object is not changed.
    expect(input.embedding).toBeInstanceOf(Float32Array);
  });

  it('returns values without typed arrays as they are', () => {
    const value = { a: [1, { b: 'c' }] };
    expect(plainResult(value)).toBe(value);
    expect(plainResult(7)).toBe(7);
    expect(plainResult(null)).toBeNull();
  });
});
