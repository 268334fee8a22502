import { describe, expect, it } from 'vitest';
import { diffRegistries, storedDataBreaks } from '../../src/registry/registry-diff.ts';
import { binding, entity, feature, field, registry } from '../support/registry-builder.ts';

const views = (options: { maxCount?: number; type?: string; featureType?: 'action' | 'static' } = {}) =>
  feature('user', 'views', {
    featureType: options.featureType ?? 'action',
    maxCount: options.maxCount ?? 100,
    events: [binding('app', 'app', { fields: [field('item_id', options.type ?? 'int')] })],
  });

describe('breaking changes on stored data', () => {
  it('finds prefix and id type changes, lowered maxCount, field type and shape changes', () => {
    const old = registry({
      entities: [entity('user', { prefix: 'u:', idType: 'int' })],
      features: [views()],
    });
    const next = registry({
      entities: [entity('user', { prefix: 'user:', idType: 'string' })],
      features: [views({ maxCount: 10, type: 'string', featureType: 'static' })],
    });
    expect(storedDataBreaks(old, next).map((b) => b.id)).toEqual([
      'key:user',
      'key:user',
      'type:user.views.item_id',
      'type:user.views',
      'maxCount:user.views',
    ]);
    expect(storedDataBreaks(old, next).map((b) => b.reason)).toContain(
      'feature user.views: maxCount lowered 100 → 10; stored rows beyond 10 are trimmed',
    );
  });

  it('finds none for a raised maxCount, a new feature or a new field', () => {
    const old = registry({ features: [views()] });
    const next = registry({
      features: [
        views({ maxCount: 500 }),
        feature('user', 'clicks', { events: [binding('app', 'app', { fields: [field('x', 'int')] })] }),
      ],
    });
    expect(storedDataBreaks(old, next)).toEqual([]);
    expect(
      diffRegistries(old, next).map((d) => [d.section, d.name, d.change, d.keys.map((k) => k.key)]),
    ).toEqual([
      ['features', 'user.clicks', 'added', []],
      ['features', 'user.views', 'changed', ['maxCount']],
    ]);
  });

  it('a vector dimension change is a type change, shown as the type it is', () => {
    const old = registry({ features: [views({ type: 'vector(3)' })] });
    const next = registry({ features: [views({ type: 'vector(4)' })] });
    expect(storedDataBreaks(old, next).map((b) => b.reason)).toEqual([
      'feature user.views: field item_id type vector(3) → vector(4); values already stored keep vector(3)',
    ]);
    expect(diffRegistries(old, next)[0]?.keys).toEqual([
      { key: 'events[0].fields.item_id.type', before: 'vector(3)', after: 'vector(4)' },
      { key: 'fields.item_id.type', before: 'vector(3)', after: 'vector(4)' },
    ]);
  });
});
