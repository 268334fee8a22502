import { describe, expect, it } from 'vitest';
import { Autoscaler } from '../../src/enrich/autoscaler.ts';

describe('the autoscaler', () => {
  const limits = (a: Autoscaler): number[] => a.history.map((h) => h.limit);

  it('adds a step every interval while the backlog grows, up to max', () => {
    const a = new Autoscaler({ min: 1, max: 4, step: 1 }, 0);
    for (const [t, backlog] of [10, 20, 30, 40, 50, 60].entries()) {
      a.tick({ backlog, completed: 5, running: a.limit }, t);
    }
    expect(limits(a)).toEqual([1, 2, 3, 4]);
  });

  it('keeps growing while more waits than one interval completes, even as the backlog shrinks', () => {
    const a = new Autoscaler({ min: 1, max: 10, step: 2 }, 0);
    a.tick({ backlog: 1000, completed: 0, running: 1 }, 1);
    a.tick({ backlog: 990, completed: 10, running: 3 }, 2);
    a.tick({ backlog: 960, completed: 30, running: 5 }, 3);
    expect(a.limit).toBe(7);
    // Less waits than the last interval completed: the backlog drains on its own, hold.
    a.tick({ backlog: 20, completed: 50, running: 7 }, 4);
    expect(a.limit).toBe(7);
  });

  it('steps back down to min when nothing waits and slots stand idle', () => {
    const a = new Autoscaler({ min: 2, max: 6, step: 2 }, 0);
    for (let t = 1; t <= 3; t++) a.tick({ backlog: 100 * t, completed: 0, running: a.limit }, t);
    expect(a.limit).toBe(6);
    a.tick({ backlog: 0, completed: 40, running: 6 }, 4); // all busy: not idle yet
    expect(a.limit).toBe(6);
    for (let t = 5; t <= 8; t++) a.tick({ backlog: 0, completed: 1, running: 0 }, t);
    expect(limits(a)).toEqual([2, 4, 6, 4, 2]);
  });

  it('clamps the limit into new bounds', () => {
    const a = new Autoscaler({ min: 1, max: 8, step: 4 }, 0);
    a.tick({ backlog: 10, completed: 0, running: 1 }, 1);
    a.tick({ backlog: 20, completed: 0, running: 5 }, 2);
    expect(a.limit).toBe(8);
    a.setBounds({ min: 1, max: 3, step: 1 }, 3);
    expect(a.limit).toBe(3);
    a.setBounds({ min: 5, max: 9, step: 1 }, 4);
    expect(a.limit).toBe(5);
  });
});
