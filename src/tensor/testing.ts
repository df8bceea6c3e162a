// Helpers for the engine's tests (and anyone else's): leak checks and numeric comparisons.
import assert from 'node:assert/strict';
import { Tensor } from './tensor';
import { liveTensors } from './scope';

/**
 * Runs fn and asserts that the number of live native tensors is the same afterwards: whatever fn
 * created it also freed (tidy, dispose). Returns fn's result. Async functions are awaited.
 */
export function assertNoLeak<T>(fn: () => T, label = 'fn'): T {
  const before = liveTensors();
  const result = fn();
  if (result instanceof Promise) throw new TypeError('assertNoLeak: use assertNoLeakAsync for async functions');
  const after = liveTensors();
  assert.equal(after - before, 0, `${label} leaked ${after - before} tensor(s): liveTensors() went from ${before} to ${after}`);
  return result;
}

export async function assertNoLeakAsync<T>(fn: () => Promise<T>, label = 'fn'): Promise<T> {
  const before = liveTensors();
  const result = await fn();
  const after = liveTensors();
  assert.equal(after - before, 0, `${label} leaked ${after - before} tensor(s): liveTensors() went from ${before} to ${after}`);
  return result;
}

type Nested = number | boolean | Nested[];

function flat(x: Nested): number[] {
  if (Array.isArray(x)) return x.flatMap(flat);
  return [Number(x)];
}
function shapeOf(x: Nested): number[] {
  const s: number[] = [];
  let p: Nested = x;
  while (Array.isArray(p)) { s.push(p.length); p = p[0]; }
  return s;
}

/**
 * Asserts a tensor's shape and values (as float64) match `expected` (nested arrays, a flat array with
 * an explicit shape via opts.shape, or a number for a scalar) within |a - e| <= atol + rtol·|e|.
 * NaN matches NaN.
 */
export function assertClose(actual: Tensor, expected: Nested | readonly unknown[], opts: { atol?: number; rtol?: number; shape?: number[]; msg?: string } = {}): void {
  const { atol = 1e-6, rtol = 1e-5 } = opts;
  const eshape = opts.shape ?? shapeOf(expected as Nested);
  assert.deepEqual(actual.shape, eshape, `${opts.msg ?? 'assertClose'}: shape [${actual.shape}] != expected [${eshape}]`);
  const a = actual.toFloat64Array();
  const e = flat(expected as Nested);
  assert.equal(a.length, e.length, `${opts.msg ?? 'assertClose'}: ${a.length} values, expected ${e.length}`);
  for (let i = 0; i < e.length; i++) {
    if (Number.isNaN(e[i]) && Number.isNaN(a[i])) continue;
    const ok = Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]) || a[i] === e[i];
    if (!ok) {
      assert.fail(`${opts.msg ?? 'assertClose'}: element ${i} is ${a[i]}, expected ${e[i]} (atol ${atol}, rtol ${rtol})\n` +
        `actual:   [${Array.from(a).join(', ')}]\nexpected: [${e.join(', ')}]`);
    }
  }
}

/** Asserts fn throws an Error (not a crash, not a non-Error value) whose message matches `re`. */
export function assertThrowsMessage(fn: () => unknown, re: RegExp, label?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error, `${label ?? 'fn'} threw a non-Error: ${String(err)}`);
    assert.match(err.message, re, `${label ?? 'fn'}: message ${JSON.stringify(err.message)} does not match ${re}`);
    return true;
  });
}
