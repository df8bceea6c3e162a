// Image transforms. Two levels:
//  * per-sample ops on uint8 HWC images (plain TypeScript loops, seeded by an Rng passed in), run
//    inside loader worker threads. These must not pull in the tensor engine: this module only
//    loads '../tensor' lazily, from the batch-level functions, so workers never load libtorch.
//  * batch-level ops on the float NCHW batch tensor on the main thread (toTensor, normalize,
//    randomErasing).
// A pipeline is plain data (TransformSpec[]) so configs can name it and workers can receive it.
import type { Tensor } from '../tensor';
import type { Normalize } from './batch';
import { Rng } from '../util/rng';
import { parseRandAugment, randAugmentParams, applyRandAugmentOps, type RandAugmentConfig, type RandAugmentOp } from './randaugment';

/** One uint8 HWC image. */
export interface Img {
  data: Uint8Array;
  h: number;
  w: number;
  c: number;
}

export type Size2 = number | [number, number];
export type PaddingMode = 'zero' | 'reflect' | 'edge';

export type TransformSpec =
  | { name: 'resize'; size: Size2 }
  | { name: 'centerCrop'; size: Size2 }
  | { name: 'randomResizedCrop'; size: Size2; scale?: [number, number]; ratio?: [number, number] }
  | { name: 'randomCrop'; size: Size2; padding?: number; paddingMode?: PaddingMode }
  | { name: 'horizontalFlip'; p?: number }
  | { name: 'grayscaleToRgb' }
  | { name: 'randAugment'; config: string; fill?: number[] };

function hw(size: Size2, where: string): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new RangeError(`${where}: size must be a positive integer or [h, w], got ${JSON.stringify(size)}`);
  }
  return [h, w];
}

// ---------------------------------------------------------------------------------------------
// Per-sample ops

/** Bilinear resample of the rectangle [y0, y0+ch) x [x0, x0+cw) of img to oh x ow
 *  (half-pixel centres, align_corners=false, edge clamped). No antialiasing on downscale. */
export function resizedCrop(img: Img, y0: number, x0: number, ch: number, cw: number, oh: number, ow: number): Img {
  const { data, h, w, c } = img;
  const out = new Uint8Array(oh * ow * c);
  const sy = ch / oh, sx = cw / ow;
  // Precompute horizontal taps.
  const xi0 = new Int32Array(ow), xi1 = new Int32Array(ow), xf = new Float32Array(ow);
  for (let x = 0; x < ow; x++) {
    let fx = x0 + (x + 0.5) * sx - 0.5;
    if (fx < 0) fx = 0;
    if (fx > w - 1) fx = w - 1;
    const i = Math.floor(fx);
    xi0[x] = i * c;
    xi1[x] = Math.min(i + 1, w - 1) * c;
    xf[x] = fx - i;
  }
  let o = 0;
  for (let y = 0; y < oh; y++) {
    let fy = y0 + (y + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    if (fy > h - 1) fy = h - 1;
    const j = Math.floor(fy);
    const wy = fy - j;
    const r0 = j * w * c, r1 = Math.min(j + 1, h - 1) * w * c;
    for (let x = 0; x < ow; x++) {
      const a = xi0[x], b = xi1[x], wx = xf[x];
      for (let k = 0; k < c; k++) {
        const top = data[r0 + a + k] + (data[r0 + b + k] - data[r0 + a + k]) * wx;
        const bot = data[r1 + a + k] + (data[r1 + b + k] - data[r1 + a + k]) * wx;
        out[o++] = Math.round(top + (bot - top) * wy);
      }
    }
  }
  return { data: out, h: oh, w: ow, c };
}

export function resize(img: Img, size: Size2): Img {
  const [oh, ow] = hw(size, 'resize');
  if (oh === img.h && ow === img.w) return img;
  return resizedCrop(img, 0, 0, img.h, img.w, oh, ow);
}

/** Plain crop; out-of-range parts are zero (like torchvision's center_crop padding). */
export function crop(img: Img, top: number, left: number, oh: number, ow: number): Img {
  const { data, h, w, c } = img;
  const out = new Uint8Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    const sy = top + y;
    if (sy < 0 || sy >= h) continue;
    const x0 = Math.max(0, -left), x1 = Math.min(ow, w - left);
    if (x1 <= x0) continue;
    out.set(data.subarray((sy * w + left + x0) * c, (sy * w + left + x1) * c), (y * ow + x0) * c);
  }
  return { data: out, h: oh, w: ow, c };
}

export function centerCrop(img: Img, size: Size2): Img {
  const [oh, ow] = hw(size, 'centerCrop');
  if (oh === img.h && ow === img.w) return img;
  // torchvision: top = round((h - oh) / 2)
  return crop(img, Math.round((img.h - oh) / 2), Math.round((img.w - ow) / 2), oh, ow);
}

/** torchvision RandomResizedCrop.get_params: 10 attempts, then a centre crop clamped to ratio. */
export function randomResizedCropParams(h: number, w: number, rng: Rng, scale: [number, number] = [0.08, 1], ratio: [number, number] = [3 / 4, 4 / 3]): { top: number; left: number; h: number; w: number } {
  const area = h * w;
  const lr0 = Math.log(ratio[0]), lr1 = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng.next());
    const ar = Math.exp(lr0 + (lr1 - lr0) * rng.next());
    const cw = Math.round(Math.sqrt(target * ar));
    const ch = Math.round(Math.sqrt(target / ar));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      return { top: rng.int(h - ch + 1), left: rng.int(w - cw + 1), h: ch, w: cw };
    }
  }
  const inRatio = w / h;
  let cw = w, ch = h;
  if (inRatio < Math.min(...ratio)) ch = Math.round(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) cw = Math.round(h * Math.max(...ratio));
  return { top: Math.floor((h - ch) / 2), left: Math.floor((w - cw) / 2), h: ch, w: cw };
}

export function randomResizedCrop(img: Img, size: Size2, rng: Rng, scale?: [number, number], ratio?: [number, number]): Img {
  const [oh, ow] = hw(size, 'randomResizedCrop');
  const p = randomResizedCropParams(img.h, img.w, rng, scale, ratio);
  return resizedCrop(img, p.top, p.left, p.h, p.w, oh, ow);
}

function padIndex(i: number, n: number, mode: PaddingMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'zero') return -1;
  if (mode === 'edge') return i < 0 ? 0 : n - 1;
  // reflect (no edge repeat), as numpy/torch 'reflect'
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - m;
  return m;
}

/** The crop origin torchvision RandomCrop(size, padding) would pick, in unpadded coordinates
 *  (negative = inside the padding). */
export function randomCropParams(h: number, w: number, oh: number, ow: number, rng: Rng, padding = 0): { top: number; left: number } {
  const ph = h + 2 * padding, pw = w + 2 * padding;
  if (oh > ph || ow > pw) throw new RangeError(`randomCrop: crop ${oh}x${ow} is larger than the padded image ${ph}x${pw}`);
  return { top: rng.int(ph - oh + 1) - padding, left: rng.int(pw - ow + 1) - padding };
}

/** torchvision RandomCrop(size, padding): pad every side by `padding`, then take a uniformly
 *  placed size crop (fused: no padded copy is materialised). */
export function randomCrop(img: Img, size: Size2, rng: Rng, padding = 0, mode: PaddingMode = 'zero'): Img {
  const [oh, ow] = hw(size, 'randomCrop');
  const { top, left } = randomCropParams(img.h, img.w, oh, ow, rng, padding);
  return paddedCrop(img, top, left, oh, ow, mode);
}

/** The oh x ow window at (top, left) of img padded with `mode` (top/left may be negative). */
export function paddedCrop(img: Img, top: number, left: number, oh: number, ow: number, mode: PaddingMode = 'zero'): Img {
  const { data, h, w, c } = img;
  const out = new Uint8Array(oh * ow * c);
  const xs = new Int32Array(ow);
  for (let x = 0; x < ow; x++) xs[x] = padIndex(left + x, w, mode);
  let o = 0;
  for (let y = 0; y < oh; y++) {
    const sy = padIndex(top + y, h, mode);
    if (sy < 0) { o += ow * c; continue; }
    const row = sy * w;
    for (let x = 0; x < ow; x++) {
      const sx = xs[x];
      if (sx < 0) { o += c; continue; }
      const s = (row + sx) * c;
      for (let k = 0; k < c; k++) out[o++] = data[s + k];
    }
  }
  return { data: out, h: oh, w: ow, c };
}

/** Mirror left-right (always). */
export function hflip(img: Img): Img {
  const { data, h, w, c } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    const r = y * w * c;
    for (let x = 0; x < w; x++) {
      const s = r + x * c, d = r + (w - 1 - x) * c;
      for (let k = 0; k < c; k++) out[d + k] = data[s + k];
    }
  }
  return { data: out, h, w, c };
}

/** Mirror with probability p (one rng.next() draw either way). */
export function horizontalFlip(img: Img, rng: Rng, p = 0.5): Img {
  return rng.next() < p ? hflip(img) : img;
}

/** Repeat a 1-channel image into 3 channels (identity for 3 channels). */
export function grayscaleToRgb(img: Img): Img {
  if (img.c === 3) return img;
  if (img.c !== 1) throw new Error(`grayscaleToRgb: expected 1 or 3 channels, got ${img.c}`);
  const n = img.h * img.w, src = img.data, out = new Uint8Array(n * 3);
  for (let i = 0, o = 0; i < n; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = src[i];
  return { data: out, h: img.h, w: img.w, c: 3 };
}

// ---------------------------------------------------------------------------------------------
// Pipelines

/** The random choices of one transform: crop box, flip, RandAugment's applied ops; null when
 *  the transform draws nothing. Plain JSON, so a view can be hashed into a cache key. */
export type OpParams =
  | null
  | { top: number; left: number; h?: number; w?: number }
  | { flip: boolean }
  | { ops: RandAugmentOp[] };
/** One entry per transform of a pipeline. */
export type ViewParams = OpParams[];

/** A validated pipeline of TransformSpecs. Plain data in, so it can cross to a worker. */
export class Compose {
  readonly specs: readonly TransformSpec[];
  private readonly ra: (RandAugmentConfig | null)[];

  constructor(specs: readonly TransformSpec[]) {
    if (!Array.isArray(specs)) throw new TypeError(`Compose: expected an array of transform specs, got ${JSON.stringify(specs)}`);
    this.specs = specs;
    this.ra = specs.map((s, i) => {
      if (!s || typeof s !== 'object' || typeof (s as { name?: unknown }).name !== 'string') {
        throw new TypeError(`Compose: transform ${i} is not a {name: ...} object: ${JSON.stringify(s)}`);
      }
      switch (s.name) {
        case 'resize': case 'centerCrop': case 'randomResizedCrop': case 'randomCrop':
          hw(s.size, s.name);
          return null;
        case 'horizontalFlip': case 'grayscaleToRgb':
          return null;
        case 'randAugment':
          return parseRandAugment(s.config);
        default:
          throw new Error(`Compose: unknown transform '${(s as { name: string }).name}' (known: resize, centerCrop, randomResizedCrop, randomCrop, horizontalFlip, grayscaleToRgb, randAugment)`);
      }
    });
  }

  apply(img: Img, rng: Rng): Img {
    return this.applyRecorded(img, rng).img;
  }

  /** apply(), also reporting every random choice it made (one entry per spec; null for the
   *  deterministic ones), so the exact view can be keyed (teacher-output cache) and replayed. */
  applyRecorded(img: Img, rng: Rng): { img: Img; params: ViewParams } {
    const params: ViewParams = [];
    let x = img;
    for (let i = 0; i < this.specs.length; i++) {
      const s = this.specs[i];
      let p: OpParams = null;
      switch (s.name) {
        case 'randomResizedCrop': p = { ...randomResizedCropParams(x.h, x.w, rng, s.scale, s.ratio) }; break;
        case 'randomCrop': { const [oh, ow] = hw(s.size, s.name); p = randomCropParams(x.h, x.w, oh, ow, rng, s.padding ?? 0); break; }
        case 'horizontalFlip': p = { flip: rng.next() < (s.p ?? 0.5) }; break;
        case 'randAugment': p = { ops: randAugmentParams(this.ra[i]!, rng) }; break;
        default: break;
      }
      params.push(p);
      x = this.applyOne(i, x, p);
    }
    return { img: x, params };
  }

  /** The view `params` (from applyRecorded) of img again, with no randomness. */
  replay(img: Img, params: ViewParams): Img {
    if (!Array.isArray(params) || params.length !== this.specs.length) {
      throw new Error(`Compose.replay: expected ${this.specs.length} op parameters (one per transform), got ${Array.isArray(params) ? params.length : typeof params}`);
    }
    let x = img;
    for (let i = 0; i < this.specs.length; i++) x = this.applyOne(i, x, params[i]);
    return x;
  }

  private applyOne(i: number, x: Img, p: OpParams): Img {
    const s = this.specs[i];
    const need = (): any => { if (p === null || typeof p !== 'object') throw new Error(`Compose: transform ${i} (${s.name}) needs its parameters`); return p; };
    switch (s.name) {
      case 'resize': return resize(x, s.size);
      case 'centerCrop': return centerCrop(x, s.size);
      case 'randomResizedCrop': { const [oh, ow] = hw(s.size, s.name), q = need(); return resizedCrop(x, q.top, q.left, q.h, q.w, oh, ow); }
      case 'randomCrop': { const [oh, ow] = hw(s.size, s.name), q = need(); return paddedCrop(x, q.top, q.left, oh, ow, s.paddingMode ?? 'zero'); }
      case 'horizontalFlip': return need().flip ? hflip(x) : x;
      case 'grayscaleToRgb': return grayscaleToRgb(x);
      case 'randAugment': return applyRandAugmentOps(x, need().ops, s.fill, this.ra[i]!.translatePct);
    }
  }

  /** Output [h, w, c] for an input of [h, w, c]: every op here has a data-independent shape. */
  outputShape(h: number, w: number, c: number): [number, number, number] {
    for (const s of this.specs) {
      if ('size' in s) [h, w] = hw(s.size, s.name);
      else if (s.name === 'grayscaleToRgb') c = 3;
    }
    return [h, w, c];
  }
}

export function compose(specs: readonly TransformSpec[]): Compose {
  return new Compose(specs);
}

/** torchvision-style training pipeline for small images: optional grey->RGB, resize, random crop
 *  with padding, flip. */
export function trainPipeline(o: { size: number; padding?: number; toRgb?: boolean; resize?: number }): TransformSpec[] {
  const p: TransformSpec[] = [];
  if (o.toRgb) p.push({ name: 'grayscaleToRgb' });
  if (o.resize) p.push({ name: 'resize', size: o.resize });
  p.push({ name: 'randomCrop', size: o.size, padding: o.padding ?? 4 });
  p.push({ name: 'horizontalFlip', p: 0.5 });
  return p;
}

// ---------------------------------------------------------------------------------------------
// Batch-level tensor ops (main thread only; the tensor engine is loaded on first use)

type TensorLib = typeof import('../tensor');
function tensorLib(): TensorLib {
  return require('../tensor') as TensorLib;
}

export const IMAGENET_NORM: Normalize = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
export const CIFAR_NORM: Normalize = { mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] };

/** uint8 NHWC -> float32 NCHW in [0,1], normalised when norm is given (data/batch.ts). */
export function toTensor(images: Uint8Array, n: number, h: number, w: number, c: number,
  o: { norm?: Normalize; outChannels?: number; size?: number } = {}): Tensor {
  const { imagesToTensor } = require('./batch') as typeof import('./batch');
  return imagesToTensor(images, n, h, w, c, o);
}

/** (x - mean) / std per channel on a float NCHW tensor. */
export function normalize(x: Tensor, norm: Normalize): Tensor {
  const { fromTypedArray, tidy } = tensorLib();
  const c = x.shape[1];
  if (norm.mean.length !== c || norm.std.length !== c) {
    throw new Error(`normalize: ${c} channels but mean has ${norm.mean.length} and std ${norm.std.length} entries`);
  }
  return tidy(() => x.sub(fromTypedArray(Float32Array.from(norm.mean), [1, c, 1, 1])).div(fromTypedArray(Float32Array.from(norm.std), [1, c, 1, 1])));
}

export interface RandomErasingOptions {
  /** Probability of erasing each image (timm re_prob), default 0.25. */
  probability?: number;
  minArea?: number;
  maxArea?: number;
  minAspect?: number;
  maxAspect?: number;
  /** 'pixel': per-pixel N(0,1) noise; 'rand': one N(0,1) value per channel; 'const': zeros. */
  mode?: 'pixel' | 'rand' | 'const';
  /** Erase 1..maxCount boxes (timm max_count), default 1. */
  maxCount?: number;
}

/** Erasing boxes timm's RandomErasing would pick for one image of h x w: [top, left, eh, ew][]. */
export function randomErasingBoxes(h: number, w: number, rng: Rng, o: RandomErasingOptions = {}): [number, number, number, number][] {
  const prob = o.probability ?? 0.25, minA = o.minArea ?? 0.02, maxA = o.maxArea ?? 1 / 3;
  const minAsp = o.minAspect ?? 0.3, maxAsp = o.maxAspect ?? 1 / minAsp;
  const maxCount = o.maxCount ?? 1;
  const boxes: [number, number, number, number][] = [];
  if (rng.next() > prob) return boxes;
  const area = h * w;
  const count = maxCount <= 1 ? 1 : 1 + rng.int(maxCount);
  const la = Math.log(minAsp), lb = Math.log(maxAsp);
  for (let k = 0; k < count; k++) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = (area * (minA + (maxA - minA) * rng.next())) / count;
      const ar = Math.exp(la + (lb - la) * rng.next());
      const eh = Math.floor(Math.round(Math.sqrt(target * ar)));
      const ew = Math.floor(Math.round(Math.sqrt(target / ar)));
      if (ew < w && eh < h) {
        boxes.push([rng.int(h - eh + 1), rng.int(w - ew + 1), eh, ew]);
        break;
      }
    }
  }
  return boxes;
}

/** timm RandomErasing on a normalised float NCHW batch (per image, device-independent RNG).
 *  Returns a new tensor; x is unchanged. */
export function randomErasing(x: Tensor, rng: Rng, o: RandomErasingOptions = {}): Tensor {
  return randomErasingRecorded(x, () => rng, o).x;
}

/** randomErasing with one Rng per image (rngOf(i); the same Rng for all gives randomErasing), also
 *  reporting each image's boxes [top, left, eh, ew] (part of a view's key in the teacher cache). */
export function randomErasingRecorded(x: Tensor, rngOf: (i: number) => Rng, o: RandomErasingOptions = {}): { x: Tensor; boxes: [number, number, number, number][][] } {
  const { fromTypedArray, tidy } = tensorLib();
  const [n, c, h, w] = x.shape;
  const mode = o.mode ?? 'const';
  const plane = h * w, size = n * c * plane;
  let keep: Float32Array | null = null, fill: Float32Array | null = null;
  const all: [number, number, number, number][][] = [];
  for (let i = 0; i < n; i++) {
    const rng = rngOf(i);
    const boxes = randomErasingBoxes(h, w, rng, o);
    all.push(boxes);
    for (const [top, left, eh, ew] of boxes) {
      if (!keep) { keep = new Float32Array(size).fill(1); fill = new Float32Array(size); }
      const chanVal = mode === 'rand' ? Array.from({ length: c }, () => rng.normal()) : null;
      for (let k = 0; k < c; k++) {
        const base = (i * c + k) * plane;
        for (let y = top; y < top + eh; y++) {
          for (let xx = left; xx < left + ew; xx++) {
            const p = base + y * w + xx;
            keep[p] = 0;
            fill![p] = mode === 'pixel' ? rng.normal() : chanVal ? chanVal[k] : 0;
          }
        }
      }
    }
  }
  if (!keep) return { x: tidy(() => x.clone()), boxes: all };
  return {
    x: tidy(() => {
      const kt = fromTypedArray(keep!, [n, c, h, w]).to(x.dtype);
      const ft = fromTypedArray(fill!, [n, c, h, w]).to(x.dtype);
      return x.mul(kt).add(ft);
    }),
    boxes: all,
  };
}
