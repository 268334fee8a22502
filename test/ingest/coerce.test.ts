import { describe, expect, it } from 'vitest';
import { coerce, INVALID, tryCoerce } from '../../src/ingest/coerce.ts';
import { LarderError } from '../../src/errors.ts';
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
});
