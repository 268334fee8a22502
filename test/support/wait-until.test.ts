import { describe, expect, it } from 'vitest';
import { waitUntil } from './wait-until.ts';

describe('waitUntil', () => {
  it('resolves with the first answer that is not false, undefined or null', async () => {
    let calls = 0;
    const answer = await waitUntil(
      () => {
        calls += 1;
        return calls === 1 ? false : calls === 2 ? undefined : calls === 3 ? null : calls;
      },
      5000,
      'the fourth call',
      1,
    );
    expect(answer).toBe(4);
  });

  it('treats a throwing probe as not yet', async () => {
    let calls = 0;
    const answer = await waitUntil(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('connection refused');
        return 'up';
      },
      5000,
      'the server',
      1,
    );
    expect(answer).toBe('up');
  });

  it('rejects at its deadline, naming what it waited for and the last error', async () => {
    const started = Date.now();
    const failure = await waitUntil(
      () => {
        throw new Error('still refused');
      },
      100,
      'the server to listen',
      10,
    ).catch((err: unknown) => err);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('timed out after 100 ms waiting for the server to listen');
    expect(((failure as Error).cause as Error).message).toBe('still refused');
  });
});
