// Memory scopes. JavaScript's collector cannot be trusted to free a 100 MB activation in time,
// so tensors created inside tidy() are freed when it returns, except those it returns or keep()s.
// Finalizers remain a safety net: the addon reports large allocations to V8.
import type { Tensor } from './tensor';
import { native, type Handle } from './native';

const scopes: Tensor[][] = [];

// Tensors outside every scope are freed by the collector: a FinalizationRegistry entry is made
// only then (it costs more than a small op, so tensors inside tidy() never pay for it).
const registry = new FinalizationRegistry<Handle>((handle) => { native.dispose(handle); });

/** Called by the Tensor constructor. */
export function track(t: Tensor): void {
  const n = scopes.length;
  if (n !== 0) scopes[n - 1].push(t);
  else unscoped(t);
}

/** The tensor now belongs to no scope: let the garbage collector free it if nobody disposes it. */
export function unscoped(t: Tensor): void {
  if (t._finalized || t._h === null) return;
  t._finalized = true;
  registry.register(t, t._h, t);
  native.report(t._h);
}

/** dispose() calls this so the collector does not free the id a second time. */
export function forget(t: Tensor): void {
  if (t._finalized) { registry.unregister(t); t._finalized = false; }
}

/** Runs fn; disposes every tensor created inside except the result's tensors and kept ones. */
export function tidy<T>(fn: () => T): T {
  const scope: Tensor[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) if (!t.kept) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) if (!t.kept) t.dispose();
    throw new Error('tidy(): the function must be synchronous (it returned a Promise)');
  }
  const out = new Set<Tensor>();
  collect(result, out, 0);
  const parent = scopes.length ? scopes[scopes.length - 1] : null;
  for (const t of scope) {
    if (out.has(t)) {
      if (parent) parent.push(t); else unscoped(t);
    } else if (!t.kept) {
      t.dispose();
    }
  }
  return result;
}

function collect(v: unknown, out: Set<Tensor>, depth: number): void {
  if (v === null || typeof v !== 'object' || depth > 8) return;
  if ((v as any).__isTensor) { out.add(v as Tensor); return; }
  if (Array.isArray(v)) { for (const x of v) collect(x, out, depth + 1); return; }
  if (v instanceof Map) { for (const x of v.values()) collect(x, out, depth + 1); return; }
  if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, depth + 1);
}

/** Marks tensors to survive every enclosing tidy(); free them yourself with dispose(). */
export function keep<T extends Tensor | Tensor[]>(t: T): T {
  for (const x of Array.isArray(t) ? t : [t]) { x.kept = true; unscoped(x); }
  return t;
}

/** Disposes tensors found in any (nested) value: a tensor, arrays, Maps, plain objects. */
export function dispose(v: unknown): void {
  const all = new Set<Tensor>();
  collect(v, all, 0);
  for (const t of all) t.dispose();
}

/** Number of native tensors alive (created and neither disposed nor collected). */
export function liveTensors(): number {
  return native.liveTensors();
}
