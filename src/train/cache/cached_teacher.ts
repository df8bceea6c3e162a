// A teacher that answers from the output store (store.ts) for views it has seen and from the live
// teacher otherwise, recording what the live teacher computed (the lazy, first-pass fill). The
// Stepper (train/fit.ts) names the batch's views with setBatch() before each step (the views come
// from a loader built with `views`, data/views.ts); methods keep calling teacherLogits(teacher, b.x).
//
// Row layouts (the store holds float32 rows):
// - 'full': the C logits as computed (C ≤ 100 classes by default): replayed exactly.
// - 'topk': the k largest logits, their class indices (exact in float32 below 2^24) and the
//   log of the softmax mass of the other C − k classes, logsumexp(tail). Replay fills every other
//   class with logsumexp(tail) − log(C − k): the k top logits, the argmax (DeiT's hard label) and
//   the softmax normaliser at T = 1 are the teacher's own, so the k top probabilities are exact
//   and the tail keeps its total mass, spread evenly. FKD (Shen & Xing, ECCV 2022, "A Fast
//   Knowledge Distillation Framework for Visual Recognition") stores top-k soft labels the same
//   way to make ImageNet-scale caches small; storing the tail mass is civet's addition so the
//   distribution stays normalised.
import { Tensor, fromTypedArray, tidy } from '../../tensor';
import { teacherLogits, type Teacher } from '../../distill/distiller';
import type { BatchViews } from '../../data/loader';
import type { OutputStore } from './store';

export type RowLayout = { kind: 'full'; classes: number } | { kind: 'topk'; classes: number; k: number };

/** The layout for `classes` classes: full logits up to `fullUpTo` classes, else top-k. */
export function rowLayout(classes: number, topk: number, fullUpTo = 100): RowLayout {
  if (classes <= fullUpTo || topk >= classes) return { kind: 'full', classes };
  return { kind: 'topk', classes, k: topk };
}
export const rowWidth = (l: RowLayout) => (l.kind === 'full' ? l.classes : 2 * l.k + 1);
export const layoutName = (l: RowLayout) => (l.kind === 'full' ? `full:${l.classes}` : `topk:${l.k}/${l.classes}`);

/** One row of logits in the layout's form. */
export function encodeRow(logits: Float32Array, l: RowLayout): Float32Array {
  if (l.kind === 'full') return Float32Array.from(logits);
  const C = l.classes, k = l.k;
  const order = Array.from({ length: C }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const out = new Float32Array(2 * k + 1);
  for (let j = 0; j < k; j++) { out[j] = logits[order[j]]; out[k + j] = order[j]; }
  // logsumexp of the tail, in float64
  let m = -Infinity;
  for (let j = k; j < C; j++) m = Math.max(m, logits[order[j]]);
  let s = 0;
  for (let j = k; j < C; j++) s += Math.exp(logits[order[j]] - m);
  out[2 * k] = m + Math.log(s);
  return out;
}

/** Logits [C] rebuilt from a stored row. */
export function decodeRow(row: Float32Array, l: RowLayout, into: Float32Array = new Float32Array(l.classes)): Float32Array {
  if (l.kind === 'full') { into.set(row); return into; }
  const k = l.k;
  into.fill(row[2 * k] - Math.log(l.classes - k));
  for (let j = 0; j < k; j++) into[row[k + j]] = row[j];
  return into;
}

export class CachedTeacher {
  readonly name: string;
  private batch: { indices: Int32Array; views: BatchViews } | null = null;
  private unflushed = 0;
  hits = 0;
  misses = 0;
  readonly layout: RowLayout;

  /** `flushEvery`: write the store after this many new rows (and at flush()/dispose()). */
  constructor(readonly live: Teacher, readonly store: OutputStore, layout?: RowLayout, private readonly flushEvery = 4096) {
    this.name = `${'name' in live && typeof live.name === 'string' ? live.name : 'teacher'} (cached)`;
    this.layout = layout ?? { kind: 'full', classes: store.header.width };
    if (rowWidth(this.layout) !== store.header.width) throw new Error(`CachedTeacher: layout ${layoutName(this.layout)} needs rows of ${rowWidth(this.layout)} values, the store holds ${store.header.width}`);
  }

  /** The teacher this one caches (coadvise binds teachers by kind, ofa reads its widths). */
  get wraps(): Teacher { return this.live; }

  setBatch(indices: Int32Array, views: BatchViews): void { this.batch = { indices, views }; }

  logits(x: Tensor): Tensor {
    const b = this.batch;
    if (!b) throw new Error('CachedTeacher: setBatch() was not called for this batch (the cache needs the batch\'s view keys)');
    const n = x.shape[0];
    if (n !== b.indices.length) throw new Error(`CachedTeacher: called on ${n} images, the batch has ${b.indices.length} views (a method that feeds the teacher other images cannot use the cache)`);
    const rows: (Float32Array | null)[] = Array.from(b.indices, (i, k) => this.store.get(i, b.views.view[k], b.views.keys[k]));
    const C = this.layout.classes;
    if (rows.every((r) => r !== null)) {
      this.hits += n;
      const flat = new Float32Array(n * C);
      rows.forEach((r, k) => decodeRow(r!, this.layout, flat.subarray(k * C, (k + 1) * C)));
      return fromTypedArray(flat, [n, C]).to({ device: x.device });
    }
    // any miss: one live forward for the whole batch (as the live teacher would), stored for next time
    this.misses += rows.filter((r) => r === null).length;
    this.hits += rows.filter((r) => r !== null).length;
    const out = teacherLogits(this.live, x);
    if (out.shape[1] !== C) throw new Error(`CachedTeacher: the teacher gives ${out.shape[1]} logits, the cache holds ${C} classes`);
    const host = tidy(() => out.to({ device: 'cpu', dtype: 'float32' }).contiguous().toTypedArray() as Float32Array);
    b.indices.forEach((i, k) => {
      if (rows[k] !== null) return;
      this.store.put(i, b.views.view[k], b.views.keys[k], encodeRow(host.subarray(k * C, (k + 1) * C), this.layout));
      this.unflushed++;
    });
    if (this.unflushed >= this.flushEvery) this.flush();
    // the top-k layout replays an approximation: hand out the same from the first pass on, so
    // every epoch distils from one consistent teacher
    if (this.layout.kind === 'topk') {
      const flat = new Float32Array(n * C);
      for (let k = 0; k < n; k++) decodeRow(encodeRow(host.subarray(k * C, (k + 1) * C), this.layout), this.layout, flat.subarray(k * C, (k + 1) * C));
      const dev = out.device;
      out.dispose();
      return fromTypedArray(flat, [n, C]).to({ device: dev });
    }
    return out;
  }

  flush(): void { this.store.flush(); this.unflushed = 0; }

  dispose(): void {
    this.flush();
    if ('dispose' in this.live && typeof (this.live as any).dispose === 'function') (this.live as any).dispose();
  }
}
