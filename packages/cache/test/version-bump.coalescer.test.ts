// Concurrent bumps of the cache version share one, and none returns before a bump that began
// after it asked: the API never misses a committed write.
import { describe, expect, it } from '@jest/globals';
import { coalesceBumps } from '../src/index.ts';

function controlledBumps() {
  const started: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const bump = coalesceBumps(
    () =>
      new Promise<void>((resolve, reject) => {
        started.push({ resolve, reject });
      }),
  );
  return { bump, started };
}

const settled = async () => {
  for (let turn = 0; turn < 5; turn++) await Promise.resolve();
};

describe('coalesceBumps', () => {
  it('calls during a bump share the next one, which starts when the first settles', async () => {
    const { bump, started } = controlledBumps();
    const done: string[] = [];
    const first = bump().then(() => done.push('first'));
    const second = bump().then(() => done.push('second'));
    const third = bump().then(() => done.push('third'));
    expect(started).toHaveLength(1);

    started[0]!.resolve();
    await first;
    await settled();
    // The second and third asked after the first bump began: they wait for a bump of their own.
    expect(done).toEqual(['first']);
    expect(started).toHaveLength(2);
    started[1]!.resolve();
    await Promise.all([second, third]);
    expect(done).toEqual(['first', 'second', 'third']);

    // Idle again: the next call starts a bump at once.
    const fourth = bump();
    expect(started).toHaveLength(3);
    started[2]!.resolve();
    await fourth;
  });

  it('a failed bump fails every call that shared it, and the next call starts afresh', async () => {
    const { bump, started } = controlledBumps();
    const first = bump();
    const second = bump();
    started[0]!.reject(new Error('redis down'));
    await expect(first).rejects.toThrow('redis down');
    await settled();
    started[1]!.reject(new Error('still down'));
    await expect(second).rejects.toThrow('still down');
    const third = bump();
    expect(started).toHaveLength(3);
    started[2]!.resolve();
    await third;
  });
});
