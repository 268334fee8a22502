import { describe, expect, it } from 'vitest';
import { compileFilter, compileFilters } from '../../src/ingest/filter.ts';
import type { FilterDef } from '../../src/registry/types.ts';
import { filter } from '../support/registry-builder.ts';

/** [filter, event, expected] rows; every optype has passing, failing and missing-field rows. */
const cases: [string, FilterDef, Record<string, unknown>, boolean][] = [
  // equal
  ['equal string match', filter('country_code', 'string', 'equal', ['kr']), { country_code: 'kr' }, true],
  ['equal string mismatch', filter('country_code', 'string', 'equal', ['kr']), { country_code: 'jp' }, false],
  ['equal int from string', filter('n', 'int', 'equal', [3]), { n: '3' }, true],
  ['equal uncoercible value', filter('n', 'int', 'equal', [3]), { n: 'three' }, false],
  ['equal missing', filter('country_code', 'string', 'equal', ['kr']), {}, false],
  ['equal null', filter('country_code', 'string', 'equal', ['kr']), { country_code: null }, false],
  ['equal dotted path', filter('geo.country', 'string', 'equal', ['kr']), { geo: { country: 'kr' } }, true],
  ['equal bool', filter('flag', 'bool', 'equal', [true]), { flag: 1 }, true],
  ['equal list', filter('tags', 'list<string>', 'equal', ['a', 'b']), { tags: ['a', 'b'] }, true],
  ['equal list differs', filter('tags', 'list<string>', 'equal', ['a', 'b']), { tags: ['b', 'a'] }, false],
  ['equal json', filter('j', 'json', 'equal', [{ a: 1, b: 2 }]), { j: { b: 2, a: 1 } }, true],
  // not_equal
  ['not_equal differs', filter('country_code', 'string', 'not_equal', ['kr']), { country_code: 'jp' }, true],
  ['not_equal same', filter('country_code', 'string', 'not_equal', ['kr']), { country_code: 'kr' }, false],
  ['not_equal missing passes', filter('country_code', 'string', 'not_equal', ['kr']), {}, true],
  // in
  ['in member', filter('region', 'int', 'in', [1, 2, 3]), { region: 2 }, true],
  ['in member as string', filter('region', 'int', 'in', [1, 2, 3]), { region: '3' }, true],
  ['in non-member', filter('region', 'int', 'in', [1, 2, 3]), { region: 4 }, false],
  ['in list value, any element', filter('tags', 'string', 'in', ['x', 'y']), { tags: ['a', 'y'] }, true],
  ['in list value, no element', filter('tags', 'string', 'in', ['x', 'y']), { tags: ['a', 'b'] }, false],
  ['in missing', filter('region', 'int', 'in', [1]), {}, false],
  // not_in
  ['not_in non-member', filter('region', 'int', 'not_in', [1, 2]), { region: 5 }, true],
  ['not_in member', filter('region', 'int', 'not_in', [1, 2]), { region: 1 }, false],
  ['not_in missing passes', filter('region', 'int', 'not_in', [1, 2]), {}, true],
  // contain
  ['contain substring', filter('query', 'string', 'contain', ['bike']), { query: 'red bike cheap' }, true],
  [
    'contain several substrings, all',
    filter('q', 'string', 'contain', ['red', 'bike']),
    { q: 'red bike' },
    true,
  ],
  [
    'contain several substrings, one missing',
    filter('q', 'string', 'contain', ['red', 'car']),
    { q: 'red bike' },
    false,
  ],
  ['contain list element', filter('tags', 'string', 'contain', ['b']), { tags: ['a', 'b'] }, true],
  ['contain list elements, all', filter('ids', 'int', 'contain', [1, 2]), { ids: [3, 2, '1'] }, true],
  ['contain list elements, one missing', filter('ids', 'int', 'contain', [1, 2]), { ids: [1, 3] }, false],
  ['contain no substring', filter('query', 'string', 'contain', ['car']), { query: 'bike' }, false],
  ['contain object value', filter('query', 'string', 'contain', ['a']), { query: { a: 1 } }, false],
  ['contain missing', filter('query', 'string', 'contain', ['bike']), {}, false],
  // not_contain
  ['not_contain none', filter('q', 'string', 'not_contain', ['car', 'bus']), { q: 'red bike' }, true],
  [
    'not_contain one present',
    filter('q', 'string', 'not_contain', ['car', 'bike']),
    { q: 'red bike' },
    false,
  ],
  ['not_contain list', filter('tags', 'string', 'not_contain', ['z']), { tags: ['a', 'b'] }, true],
  [
    'not_contain list element present',
    filter('tags', 'string', 'not_contain', ['a']),
    { tags: ['a'] },
    false,
  ],
  ['not_contain missing passes', filter('q', 'string', 'not_contain', ['car']), {}, true],
  // gt / gte / lt / lte
  ['gt above', filter('price', 'int', 'gt', [100]), { price: 101 }, true],
  ['gt equal', filter('price', 'int', 'gt', [100]), { price: 100 }, false],
  ['gt numeric string', filter('price', 'float', 'gt', [1.5]), { price: '2.5' }, true],
  ['gt not a number', filter('price', 'int', 'gt', [1]), { price: 'abc' }, false],
  ['gt missing', filter('price', 'int', 'gt', [100]), {}, false],
  ['gte equal', filter('price', 'int', 'gte', [100]), { price: 100 }, true],
  ['gte below', filter('price', 'int', 'gte', [100]), { price: 99 }, false],
  ['gte missing', filter('price', 'int', 'gte', [100]), {}, false],
  ['lt below', filter('price', 'int', 'lt', [100]), { price: 99 }, true],
  ['lt equal', filter('price', 'int', 'lt', [100]), { price: 100 }, false],
  ['lt missing', filter('price', 'int', 'lt', [100]), {}, false],
  ['lte equal', filter('price', 'int', 'lte', [100]), { price: 100 }, true],
  ['lte above', filter('price', 'int', 'lte', [100]), { price: 101 }, false],
  ['lte missing', filter('price', 'int', 'lte', [100]), {}, false],
  ['gt string order', filter('v', 'string', 'gt', ['b']), { v: 'c' }, true],
  ['lt string order', filter('v', 'string', 'lt', ['b']), { v: 'c' }, false],
  ['gt numbers compare as numbers, not text', filter('n', 'int', 'gt', [9]), { n: '10' }, true],
  // exists / not_exists
  ['exists present', filter('params.x', 'json', 'exists'), { params: { x: 0 } }, true],
  ['exists missing', filter('params.x', 'json', 'exists'), { params: {} }, false],
  ['exists null', filter('x', 'json', 'exists'), { x: null }, false],
  ['not_exists missing', filter('x', 'json', 'not_exists'), {}, true],
  ['not_exists present', filter('x', 'json', 'not_exists'), { x: 'y' }, false],
];

describe('filters', () => {
  it.each(cases)('%s', (_name, def, event, expected) => {
    expect(compileFilter(def)(event)).toBe(expected);
  });

  it('covers every optype with a pass and a fail', () => {
    const optypes = new Set(['equal', 'not_equal', 'contain', 'not_contain', 'in', 'not_in']);
    for (const op of ['gt', 'gte', 'lt', 'lte', 'exists', 'not_exists']) optypes.add(op);
    for (const op of optypes) {
      const rows = cases.filter(([, def]) => def.optype === op);
      expect(
        rows.some(([, , , want]) => want),
        `${op} has a passing case`,
      ).toBe(true);
      expect(
        rows.some(([, , , want]) => !want),
        `${op} has a failing case`,
      ).toBe(true);
    }
  });

  it('requires every filter of a binding to pass', () => {
    const all = compileFilters([
      filter('country_code', 'string', 'equal', ['kr']),
      filter('price', 'int', 'gte', [10]),
    ]);
    expect(all({ country_code: 'kr', price: 10 })).toBe(true);
    expect(all({ country_code: 'kr', price: 9 })).toBe(false);
    expect(all({ country_code: 'jp', price: 10 })).toBe(false);
    expect(compileFilters([])({})).toBe(true);
  });
});
