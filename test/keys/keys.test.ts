import { describe, expect, it } from 'vitest';
import { entityIdKey, entityIdOfKey, groupOfKey, partitionKey } from '../../src/keys/keys.ts';

describe('entityIdKey', () => {
  it('writes int ids in canonical decimal, however they were spelled', () => {
    for (const raw of [7, '7', '007', '+7', ' 7 ', ' 007', '\t+0007\n'])
      expect(entityIdKey('int', raw)).toBe('7');
    expect(entityIdKey('int', -12)).toBe('-12');
    expect(entityIdKey('int', '-012')).toBe('-12');
    expect(entityIdKey('int', '-0')).toBe('0');
    expect(entityIdKey('int', -0)).toBe('0');
    expect(entityIdKey('int', '123456789012345678901234')).toBe('123456789012345678901234');
  });

  it.each([
    [''],
    ['  '],
    ['7a'],
    ['1e3'],
    ['7.0'],
    ['0x10'],
    [1.5],
    [2 ** 60],
    [Number.NaN],
    [true],
    [null],
    [undefined],
    [{}],
    [[7]],
  ])('refuses %j as an int id', (raw) => expect(entityIdKey('int', raw)).toBeUndefined());

  it('keeps string ids exactly as given, numbers as their decimal text', () => {
    expect(entityIdKey('string', 'a-1')).toBe('a-1');
    expect(entityIdKey('string', ' 007')).toBe(' 007');
    expect(entityIdKey('string', '  ')).toBe('  ');
    expect(entityIdKey('string', 99)).toBe('99');
    expect(entityIdKey('string', 1.5)).toBe('1.5');
  });

  it.each([[''], [null], [undefined], [true], [Number.POSITIVE_INFINITY], [{ x: 1 }], [['a']]])(
    'refuses %j as a string id',
    (raw) => expect(entityIdKey('string', raw)).toBeUndefined(),
  );
});

describe('partition keys', () => {
  it('are <prefix><id>#<group>, and split back at the last #', () => {
    const user = { prefix: 'u:' };
    const pk = partitionKey(user, '1111', 'recent_view_articles');
    expect(pk).toBe('u:1111#recent_view_articles');
    expect(groupOfKey(pk)).toBe('recent_view_articles');
    expect(entityIdOfKey(user, pk)).toBe('1111');
  });

  it('keep an id that holds # intact', () => {
    const article = { prefix: 'a:' };
    const pk = partitionKey(article, 'x#y', 'title');
    expect(groupOfKey(pk)).toBe('title');
    expect(entityIdOfKey(article, pk)).toBe('x#y');
    expect(groupOfKey('no-group')).toBeUndefined();
  });
});
