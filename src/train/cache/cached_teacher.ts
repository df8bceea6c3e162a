// A teacher that answers from the output store (store.ts) for views it has seen and from the live
// teacher otherwise, recording what the live teacher computed (the lazy, first-epoch fill). The
// trainer names the batch's views with setBatch() before each step (the views come from a loader
// built with `views`, data/views.ts); methods keep calling teacherLogits(teacher, b.x).
import { Tensor, fromTypedArray, tidy } from '../../tensor';
import { teacherLogits, type Teacher } from '../../distill/distiller';
import type { BatchViews } from '../../data/loader';
import type { OutputStore } from './store';

export class CachedTeacher {
  readonly name: string;
  private batch: { indices: Int32Array; views: BatchViews } | null = null;
  hits = 0;
  misses = 0;

  constructor(readonly live: Teacher, readonly store: OutputStore) {
    this.name = `${'name' in live && typeof live.name === 'string' ? live.name : 'teacher'} (cached)`;
  }

  setBatch(indices: Int32Array, views: BatchViews): void { this.batch = { indices, views }; }

  logits(x: Tensor): Tensor {
    const b = this.batch;
    if (!b) throw new Error('CachedTeacher: setBatch() was not called for this batch (the cache needs the batch\'s view keys)');
    const n = x.shape[0];
    if (n !== b.indices.length) throw new Error(`CachedTeacher: called on ${n} images, the batch has ${b.indices.length} views (a method that feeds the teacher other images cannot use the cache)`);
    const rows: (Float32Array | null)[] = Array.from(b.indices, (i, k) => this.store.get(i, b.views.view[k], b.views.keys[k]));
    if (rows.every((r) => r !== null)) {
      this.hits += n;
      const w = this.store.header.width, flat = new Float32Array(n * w);
      rows.forEach((r, k) => flat.set(r!, k * w));
      return fromTypedArray(flat, [n, w]).to({ device: x.device });
    }
    // any miss: one live forward for the whole batch (as the live teacher would), stored for next time
    this.misses += rows.filter((r) => r === null).length;
    this.hits += rows.filter((r) => r !== null).length;
    const out = teacherLogits(this.live, x);
    const host = tidy(() => out.to({ device: 'cpu' }).contiguous().toTypedArray() as Float32Array);
    const w = out.shape[1];
    b.indices.forEach((i, k) => { if (rows[k] === null) this.store.put(i, b.views.view[k], b.views.keys[k], host.slice(k * w, (k + 1) * w)); });
    return out;
  }
}
