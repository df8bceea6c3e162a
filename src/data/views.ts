// Augmented views with explicit parameters, for the teacher-output cache (train/cache/).
//
// With views on, every sample has a fixed, seeded set of V views: view v of sample i is the
// augmentation drawn from its own seed (seed, i, v), so its crop box, flip, RandAugment ops and
// random-erasing boxes are the same whenever it is drawn. Which view a sample shows in an epoch
// follows a seeded permutation of its V views, a fresh one every V epochs, from (seed, round, i)
// alone: a sample shows all its views before any repeats (with V ≥ epochs, a new view every
// epoch, as many distinct views as a live teacher would see), a resumed run draws what the
// uninterrupted one would have, and a teacher output recorded for a view can be replayed for it.
// (Drawing the view uniformly each epoch instead would repeat views early: 16 draws from 16
// views show only about 10 distinct ones.) (Caching by sample index alone, as torchdistill does, would
// freeze one view per image: the "fixed teacher" that falls behind a consistent live teacher on
// long schedules, Beyer et al., CVPR 2022, "Knowledge distillation: A good teacher is patient and
// consistent".)
//
// A view's key hashes the sample index with every parameter of the view, so a change to any of
// them (another crop, flip, op, magnitude, erasing box) is another key: a cache miss, never a
// stale hit.
import * as crypto from 'node:crypto';
import { deriveSeed, Rng } from '../util/rng';
import type { ViewParams } from './transforms';

// distinct keys for deriveSeed, so view streams never coincide with the batch streams
const VIEW_STREAM = 0x76696577;   // 'view'
const PICK_STREAM = 0x7069636b;   // 'pick'

/** The seed of view `view` of sample `index` (the per-sample transforms draw from it; key 1 of it: random erasing). */
export function viewSeed(seed: number, index: number, view: number): bigint {
  return deriveSeed(seed, VIEW_STREAM, index, view);
}

/** Which of its `views` views sample `index` shows in `epoch`: position epoch mod V of a seeded
 *  permutation of the V views drawn afresh each round of V epochs. */
export function pickView(seed: number, epoch: number, index: number, views: number): number {
  if (!Number.isInteger(views) || views < 1) throw new RangeError(`pickView: views must be a positive integer, got ${views}`);
  const round = Math.floor(epoch / views);
  return new Rng(deriveSeed(seed, PICK_STREAM, round, index)).permutation(views)[epoch % views];
}

/** Everything that decides a view's pixels besides the source image. */
export interface ViewDescription {
  index: number;
  /** the per-sample transforms' parameters (Compose.applyRecorded) */
  params: ViewParams;
  /** random-erasing boxes [top, left, h, w], when random erasing is on */
  erase?: [number, number, number, number][];
}

/** 16 hex digits (64 bits of SHA-256) naming one view. */
export function viewKey(v: ViewDescription): string {
  const text = JSON.stringify([v.index, v.params, v.erase ?? []]);
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
}
