import { describe, expect, it } from 'vitest';
import { coerce, INVALID, tryCoerce } from '../../src/ingest/coerce.ts';
import { LarderError } from '../../src/errors.ts';
import { FloatVector } from '../../src/keys/float-vector.ts';
import { fieldType } from '../support/registry-builder.ts';

const ok: [string, unknown, unknown][] = [
  ['int', 42, 42],
  ['int', -7, -7],
  ['int', '42', 42],
  ['int', ' -3 ', -3],
  ['float', 1.5, 1.5],
  ['float', 3, 3],
  ['float', '1.25', 1.25],
  ['float', '3e2', 300],
  ['float', '-.5', -0.5],
  ['bool', true, true],
  ['bool', false, false],
  ['bool', 'true', true],
  ['bool', 'false', false],
  ['bool', 1, true],
  ['bool', 0, false],
  ['string', 'kr', 'kr'],
  ['string', 12, '12'],
  ['string', 1.5, '1.5'],
  ['string', true, 'true'],
  ['json', { a: [1, 2] }, { a: [1, 2] }],
  ['json', 'x', 'x'],
  ['json', null, null],
  ['list<int>', [1, '2', 3], [1, 2, 3]],
  ['list<string>', ['a', 1, false], ['a', '1', 'false']],
  ['list<float>', [], []],
  ['list<bool>', [0, 'true'], [false, true]],
];

const bad: [string, unknown][] = [
  ['int', 1.5],
  ['int', '1.5'],
  ['int', 'abc'],
  ['int', ''],
  ['int', true],
  ['int', null],
  ['int', 2 ** 60],
  ['int', '123456789012345678901'],
  ['int', { n: 1 }],
  ['float', 'abc'],
  ['float', ''],
  ['float', Number.NaN],
  ['float', Number.POSITIVE_INFINITY],
  ['float', false],
  ['float', [1]],
  ['bool', 'yes'],
  ['bool', 2],
  ['bool', 'TRUE1'],
  ['bool', null],
  ['string', null],
  ['string', { a: 1 }],
  ['string', ['a']],
  ['list<int>', 5],
  ['list<int>', '1,2'],
  ['list<int>', [1, 'x']],
];

describe('type coercion', () => {
  it.each(ok)('%s accepts %j', (type, input, expected) => {
    expect(coerce(input, fieldType(type), 'f')).toEqual(expected);
  });

  it.each(bad)('%s refuses %j', (type, input) => {
    expect(tryCoerce(input, fieldType(type))).toBe(INVALID);
    expect(() => coerce(input, fieldType(type), 'f')).toThrow(LarderError);
  });

  it('names the field, the expected type and the value in the error', () => {
    let caught: unknown;
    try {
      coerce('abc', fieldType('int'), 'params.article_id');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LarderError);
    const err = caught as LarderError;
    expect(err.code).toBe('LARDER_ERR_EVENT_TYPE');
    expect(err.message).toContain('params.article_id');
    expect(err.message).toContain('int');
    expect(err.message).toContain('"abc"');
  });

  it('names the bad element of a list', () => {
    expect(() => coerce([1, 2, 'x'], fieldType('list<int>'), 'ids')).toThrow(
      /list<int>.*element 2 is string "x"/,
    );
  });

  it('truncates huge values in messages', () => {
    const huge = 'y'.repeat(10_000);
    try {
      coerce(huge, fieldType('int'), 'f');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message.length).toBeLessThan(200);
    }
  });

  it('takes a vector(N) value as a FloatVector of float32 numbers', () => {
    const v = coerce([0.1, -2, 3e38], fieldType('vector(3)'), 'emb');
    expect(v).toBeInstanceOf(FloatVector);
    expect(Array.from(v as FloatVector)).toEqual([Math.fround(0.1), -2, Math.fround(3e38)]);
    // A model's output built in-process: a typed array of numbers.
    expect(
      Array.from(coerce(new Float64Array([1, 2]), fieldType('vector(2)'), 'emb') as FloatVector),
    ).toEqual([1, 2]);
    expect(tryCoerce([1, 2], fieldType('vector(2)'))).toBeInstanceOf(FloatVector);
  });

  it('rejects what is not exactly N float32 numbers, saying what came instead', () => {
    const bad: [unknown, string][] = [
      [[1, 2], 'expects vector(3), got an array of 2 elements'],
      [[1, 2, 3, 4], 'got an array of 4 elements'],
      [[1, '2', 3], 'got element 1 string "2" (not a number)'],
      [[1, null, 3], 'got element 1 null (not a number)'],
      [[1, 2, 1e39], 'got element 2 number 1e+39 (beyond the float32 range)'],
      [[1, 2, Infinity], 'got element 2 number Infinity (beyond the range of a 64-bit float)'],
      ['1,2,3', 'got string "1,2,3"'],
      [{ 0: 1, 1: 2, 2: 3 }, 'got object'],
      [new Int32Array([1, 2, 3]), 'got object'],
    ];
    for (const [value, message] of bad) {
      expect(tryCoerce(value, fieldType('vector(3)'))).toBe(INVALID);
      let caught: unknown;
      try {
        coerce(value, fieldType('vector(3)'), 'emb');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(LarderError);
      expect((caught as LarderError).code).toBe('LARDER_ERR_EVENT_VECTOR');
      expect((caught as LarderError).message).toContain(message);
      expect((caught as LarderError).message).toContain('field "emb"');
    }
  });
});
