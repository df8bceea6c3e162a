// Mixup / CutMix with label mixing, after timm.data.mixup.Mixup in mode 'batch': one (lam,
// cutmix?) draw per batch, the batch mixed with its own reverse (x.flip(0)), targets smoothed
// one-hot mixed the same way. Randomness comes from the Rng handed to apply(), so a loader can
// derive it from (seed, epoch, batch) and stay reproducible across resumes.
import type { Tensor } from '../tensor';
import type { Rng } from '../util/rng';

export interface MixupOptions {
  /** Beta(alpha, alpha) for mixup; 0 disables (timm default 1). */
  mixupAlpha?: number;
  /** Beta(alpha, alpha) for cutmix; 0 disables (timm default 0). */
  cutmixAlpha?: number;
  /** [min, max] box size ratio for cutmix instead of alpha (timm cutmix_minmax). */
  cutmixMinMax?: [number, number] | null;
  /** Probability of mixing a batch at all (timm prob, default 1). */
  prob?: number;
  /** Probability of cutmix instead of mixup when both are enabled (default 0.5). */
  switchProb?: number;
  /** Recompute lam from the clipped box area (default true). */
  correctLam?: boolean;
  labelSmoothing?: number;
  numClasses: number;
  mode?: 'batch';
}

export interface MixParams {
  lam: number;
  useCutmix: boolean;
  /** Cutmix box [yl, yh, xl, xh) when useCutmix. */
  box?: [number, number, number, number];
}

/** Marsaglia-Tsang gamma(shape, 1) sampler. */
export function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) return sampleGamma(shape + 1, rng) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function sampleBeta(a: number, b: number, rng: Rng): number {
  const x = sampleGamma(a, rng), y = sampleGamma(b, rng);
  return x / (x + y);
}

/** timm rand_bbox: box of side sqrt(1-lam) around a uniform centre, clipped to the image. */
export function randBbox(h: number, w: number, lam: number, rng: Rng): [number, number, number, number] {
  const ratio = Math.sqrt(1 - lam);
  const cutH = Math.trunc(h * ratio), cutW = Math.trunc(w * ratio);
  const cy = rng.int(h), cx = rng.int(w);
  const clip = (v: number, hi: number): number => Math.max(0, Math.min(v, hi));
  return [clip(cy - (cutH >> 1), h), clip(cy + (cutH >> 1), h), clip(cx - (cutW >> 1), w), clip(cx + (cutW >> 1), w)];
}

/** timm rand_bbox_minmax. */
export function randBboxMinMax(h: number, w: number, minmax: [number, number], rng: Rng): [number, number, number, number] {
  const lo = (v: number): number => Math.trunc(v);
  const cutH = lo(h * minmax[0]) + rng.int(Math.max(1, lo(h * minmax[1]) - lo(h * minmax[0])));
  const cutW = lo(w * minmax[0]) + rng.int(Math.max(1, lo(w * minmax[1]) - lo(w * minmax[0])));
  const yl = rng.int(Math.max(1, h - cutH)), xl = rng.int(Math.max(1, w - cutW));
  return [yl, yl + cutH, xl, xl + cutW];
}

/** Smoothed one-hot targets mixed with the reversed batch: lam*y + (1-lam)*y.flip(0), [N, C]. */
export function mixupTarget(labels: ArrayLike<number>, numClasses: number, lam: number, smoothing = 0): Float32Array {
  const n = labels.length;
  const off = smoothing / numClasses, on = 1 - smoothing + off;
  const out = new Float32Array(n * numClasses).fill(off);
  for (let i = 0; i < n; i++) {
    const a = labels[i], b = labels[n - 1 - i];
    if (a < 0 || a >= numClasses || b < 0 || b >= numClasses) throw new RangeError(`mixupTarget: label outside [0, ${numClasses})`);
    out[i * numClasses + a] += (on - off) * lam;
    out[i * numClasses + b] += (on - off) * (1 - lam);
  }
  return out;
}

export class Mixup {
  readonly mixupAlpha: number;
  readonly cutmixAlpha: number;
  readonly cutmixMinMax: [number, number] | null;
  readonly prob: number;
  readonly switchProb: number;
  readonly correctLam: boolean;
  readonly labelSmoothing: number;
  readonly numClasses: number;

  constructor(o: MixupOptions) {
    this.mixupAlpha = o.mixupAlpha ?? 1;
    this.cutmixAlpha = o.cutmixAlpha ?? 0;
    this.cutmixMinMax = o.cutmixMinMax ?? null;
    if (this.cutmixMinMax) {
      if (this.cutmixMinMax.length !== 2) throw new Error('Mixup: cutmixMinMax must be [min, max]');
      this.cutmixAlpha = 1;
    }
    this.prob = o.prob ?? 1;
    this.switchProb = o.switchProb ?? 0.5;
    this.correctLam = o.correctLam ?? true;
    this.labelSmoothing = o.labelSmoothing ?? 0.1;
    this.numClasses = o.numClasses;
    if ((o.mode ?? 'batch') !== 'batch') throw new Error(`Mixup: only mode 'batch' is implemented`);
    if (!Number.isInteger(this.numClasses) || this.numClasses < 1) throw new RangeError(`Mixup: numClasses must be a positive integer`);
  }

  get enabled(): boolean {
    return this.mixupAlpha > 0 || this.cutmixAlpha > 0;
  }

  /** timm _params_per_batch plus the cutmix box (with lam correction) for an h x w batch. */
  params(h: number, w: number, rng: Rng): MixParams {
    let lam = 1, useCutmix = false;
    if (this.enabled && rng.next() < this.prob) {
      if (this.mixupAlpha > 0 && this.cutmixAlpha > 0) {
        useCutmix = rng.next() < this.switchProb;
        lam = useCutmix ? sampleBeta(this.cutmixAlpha, this.cutmixAlpha, rng) : sampleBeta(this.mixupAlpha, this.mixupAlpha, rng);
      } else if (this.mixupAlpha > 0) {
        lam = sampleBeta(this.mixupAlpha, this.mixupAlpha, rng);
      } else {
        useCutmix = true;
        lam = sampleBeta(this.cutmixAlpha, this.cutmixAlpha, rng);
      }
    }
    if (lam === 1 || !useCutmix) return { lam, useCutmix: false };
    const box = this.cutmixMinMax ? randBboxMinMax(h, w, this.cutmixMinMax, rng) : randBbox(h, w, lam, rng);
    if (this.correctLam || this.cutmixMinMax) lam = 1 - ((box[1] - box[0]) * (box[3] - box[2])) / (h * w);
    return { lam, useCutmix: true, box };
  }

  /** Mix a float NCHW batch; returns new tensors (x is unchanged): mixed images, soft targets
   *  [N, numClasses] float32, and the parameters used. N must be even (as timm requires). */
  apply(x: Tensor, labels: ArrayLike<number>, rng: Rng): { x: Tensor; soft: Tensor; params: MixParams } {
    const { fromTypedArray, tidy } = require('../tensor') as typeof import('../tensor');
    const [n, , h, w] = x.shape;
    if (n % 2 !== 0) throw new Error(`Mixup: batch size must be even, got ${n}`);
    if (labels.length !== n) throw new Error(`Mixup: ${labels.length} labels for a batch of ${n}`);
    const p = this.params(h, w, rng);
    const soft = fromTypedArray(mixupTarget(labels, this.numClasses, p.lam, this.labelSmoothing), [n, this.numClasses]);
    const mixed = tidy(() => {
      if (p.lam === 1) return x.clone();
      const flipped = x.flip(0);
      if (!p.useCutmix) return x.mul(p.lam).add(flipped.mul(1 - p.lam));
      const [yl, yh, xl, xh] = p.box!;
      const m = new Float32Array(h * w);
      for (let y = yl; y < yh; y++) m.fill(1, y * w + xl, y * w + xh);
      const mask = fromTypedArray(m, [1, 1, h, w]).to(x.dtype);
      return x.mul(mask.rsub(1)).add(flipped.mul(mask));
    });
    return { x: mixed, soft, params: p };
  }
}
