import { describe, expect, it } from 'vitest';
import { latestOnly } from '../lib/latest';

// A promise and the functions that settle it, so a test decides the order answers arrive in.
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('latestOnly', () => {
  it('drops an older answer that arrives after a newer one', async () => {
    const run = latestOnly();
    const applied: string[] = [];
    const first = deferred<string>();
    const second = deferred<string>();
    run(first.promise, (v) => applied.push(v));
    run(second.promise, (v) => applied.push(v));
    second.resolve('after the join');
    await settle();
    first.resolve('before the join');
    await settle();
    expect(applied).toEqual(['after the join']);
  });

  it('applies each answer when the calls do not overlap, and only the newest failure', async () => {
    const run = latestOnly();
    const applied: string[] = [];
    const failed: unknown[] = [];
    run(Promise.resolve('one'), (v) => applied.push(v));
    await settle();
    run(Promise.resolve('two'), (v) => applied.push(v));
    await settle();
    const older = deferred<string>();
    run(older.promise, (v) => applied.push(v), (e) => failed.push(e));
    run(Promise.reject(new Error('offline')), (v) => applied.push(v), (e) => failed.push(e));
    await settle();
    older.reject(new Error('older'));
    await settle();
    expect(applied).toEqual(['one', 'two']);
    expect(failed.map((e) => (e as Error).message)).toEqual(['offline']);
  });
});
