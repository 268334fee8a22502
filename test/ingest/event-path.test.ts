import { describe, expect, it } from 'vitest';
import { compilePath, readPath } from '../../src/ingest/event-path.ts';

describe('dotted paths', () => {
  const event = {
    user_id: 7,
    params: { article_id_v1: 42, nested: { deep: 'x' }, zero: 0, no: false },
    items: [{ id: 'a' }, { id: 'b' }],
    'flat.key': 'flattened',
  };

  it('reads top-level and nested values', () => {
    expect(readPath(event, 'user_id')).toBe(7);
    expect(readPath(event, 'params.article_id_v1')).toBe(42);
    expect(readPath(event, 'params.nested.deep')).toBe('x');
  });

  it('keeps falsy values', () => {
    expect(readPath(event, 'params.zero')).toBe(0);
    expect(readPath(event, 'params.no')).toBe(false);
  });

  it('indexes arrays by number', () => {
    expect(readPath(event, 'items.1.id')).toBe('b');
    expect(readPath(event, 'items.5.id')).toBeUndefined();
    expect(readPath(event, 'items.x')).toBeUndefined();
  });

  it('returns undefined for missing segments and non-objects', () => {
    expect(readPath(event, 'params.missing.deeper')).toBeUndefined();
    expect(readPath(event, 'user_id.x')).toBeUndefined();
    expect(compilePath('a')(null)).toBeUndefined();
    expect(compilePath('a.b')('text')).toBeUndefined();
  });

  it('falls back to a literal dotted key for flattened events', () => {
    expect(readPath(event, 'flat.key')).toBe('flattened');
  });

  it('does not read inherited properties', () => {
    expect(readPath(event, 'params.constructor')).toBeUndefined();
    expect(readPath(event, 'params.toString')).toBeUndefined();
    expect(readPath(event, 'constructor')).toBeUndefined();
    expect(readPath(event, 'toString')).toBeUndefined();
    expect(readPath(event, '__proto__')).toBeUndefined();
    expect(readPath(JSON.parse('{"__proto__": 5, "constructor": 6}'), '__proto__')).toBe(5);
    expect(readPath(JSON.parse('{"__proto__": 5, "constructor": 6}'), 'constructor')).toBe(6);
  });
});
