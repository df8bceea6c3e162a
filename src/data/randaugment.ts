// RandAugment on uint8 HWC images, following timm's auto_augment.py (rand_augment_transform):
// the same op list, the same level -> argument mapping (_LEVEL_DENOM = 10), each chosen op
// applied with probability 0.5, ops drawn with replacement, optional Gaussian magnitude noise
// (mstd). Colour ops follow PIL's ImageOps/ImageEnhance definitions; geometric ops use bilinear
// affine sampling with the fill colour outside the image (timm picks bilinear or bicubic at
// random; we always use bilinear). Randomness comes only from the Rng passed in.
import type { Rng } from '../util/rng';
import type { Img } from './transforms';

const LEVEL_DENOM = 10;

export const RAND_TRANSFORMS: readonly string[] = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize', 'SolarizeAdd', 'Color', 'Contrast',
  'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel',
];
export const RAND_INCREASING_TRANSFORMS: readonly string[] = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd',
  'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing', 'ShearX', 'ShearY',
  'TranslateXRel', 'TranslateYRel',
];

export interface RandAugmentConfig {
  /** Ops per image (timm num_layers, 'n'). */
  n: number;
  /** Magnitude in [0, mmax] ('m'). */
  m: number;
  /** Gaussian std of the per-application magnitude ('mstd'); Infinity (mstd > 100) = uniform(0, m). */
  mstd: number;
  /** Upper clamp of the magnitude ('mmax'), default 10. */
  mmax: number;
  /** Probability each chosen op is applied ('p'), default 0.5. */
  p: number;
  /** Use the *Increasing op variants ('inc1'). */
  increasing: boolean;
  ops: readonly string[];
  /** Translate amount as a fraction of the size (timm translate_pct), default 0.45. */
  translatePct: number;
}

/** Parse a timm string like 'rand-m9-n2-mstd0.5-inc1'. */
export function parseRandAugment(s: string): RandAugmentConfig {
  if (typeof s !== 'string') throw new TypeError(`RandAugment config must be a string like 'rand-m9-n2', got ${JSON.stringify(s)}`);
  const parts = s.split('-');
  if (parts[0] !== 'rand') throw new Error(`RandAugment config '${s}' must start with 'rand'`);
  const cfg: RandAugmentConfig = { n: 2, m: 10, mstd: 0, mmax: LEVEL_DENOM, p: 0.5, increasing: false, ops: RAND_TRANSFORMS, translatePct: 0.45 };
  for (const part of parts.slice(1)) {
    const mm = /^([a-z]+)([0-9.]+)$/.exec(part);
    if (!mm) throw new Error(`RandAugment config '${s}': cannot parse '${part}'`);
    const [, key, vs] = mm;
    const v = Number(vs);
    if (!Number.isFinite(v)) throw new Error(`RandAugment config '${s}': bad number in '${part}'`);
    switch (key) {
      case 'mstd': cfg.mstd = v > 100 ? Infinity : v; break;
      case 'mmax': cfg.mmax = v; break;
      case 'inc': cfg.increasing = v !== 0; break;
      case 'm': cfg.m = v; break;
      case 'n': {
        if (!Number.isInteger(v)) throw new Error(`RandAugment config '${s}': n must be an integer`);
        cfg.n = v;
        break;
      }
      case 'p': cfg.p = v; break;
      default: throw new Error(`RandAugment config '${s}': unknown key '${key}' (known: m, n, mstd, mmax, inc, p)`);
    }
  }
  cfg.ops = cfg.increasing ? RAND_INCREASING_TRANSFORMS : RAND_TRANSFORMS;
  return cfg;
}

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

function lut(img: Img, table: Uint8Array | ((ch: number) => Uint8Array)): Img {
  const { data, c } = img;
  const out = new Uint8Array(data.length);
  const tabs = Array.from({ length: c }, (_, k) => (typeof table === 'function' ? table(k) : table));
  for (let i = 0; i < data.length; i += c) for (let k = 0; k < c; k++) out[i + k] = tabs[k][data[i + k]];
  return { ...img, data: out };
}

function makeLut(f: (i: number) => number): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = clamp8(f(i));
  return t;
}

function histograms(img: Img): Int32Array[] {
  const { data, c } = img;
  const hs = Array.from({ length: c }, () => new Int32Array(256));
  for (let i = 0; i < data.length; i += c) for (let k = 0; k < c; k++) hs[k][data[i + k]]++;
  return hs;
}

/** PIL ImageOps.autocontrast (cutoff 0): stretch each channel's [min, max] to [0, 255]. */
export function autoContrast(img: Img): Img {
  const hs = histograms(img);
  return lut(img, (k) => {
    const h = hs[k];
    let lo = 0, hi = 255;
    while (lo < 256 && h[lo] === 0) lo++;
    while (hi >= 0 && h[hi] === 0) hi--;
    if (hi <= lo) return makeLut((i) => i);
    const scale = 255 / (hi - lo), offset = -lo * scale;
    return makeLut((i) => Math.max(0, Math.min(255, Math.trunc(i * scale + offset))));
  });
}

/** PIL ImageOps.equalize. */
export function equalize(img: Img): Img {
  const hs = histograms(img);
  return lut(img, (k) => {
    const h = hs[k];
    const nz: number[] = [];
    for (let i = 0; i < 256; i++) if (h[i]) nz.push(h[i]);
    const total = nz.reduce((a, b) => a + b, 0);
    const step = Math.floor((total - nz[nz.length - 1]) / 255);
    if (!step) return makeLut((i) => i);
    const t = new Uint8Array(256);
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      t[i] = Math.min(255, Math.floor(n / step));
      n += h[i];
    }
    return t;
  });
}

export const invert = (img: Img): Img => lut(img, makeLut((i) => 255 - i));
export function posterize(img: Img, bits: number): Img {
  if (bits >= 8) return img;
  const mask = ~(2 ** (8 - bits) - 1) & 0xff;
  return lut(img, makeLut((i) => i & mask));
}
export const solarize = (img: Img, thresh: number): Img => lut(img, makeLut((i) => (i < thresh ? i : 255 - i)));
export const solarizeAdd = (img: Img, add: number, thresh = 128): Img => lut(img, makeLut((i) => (i < thresh ? Math.min(255, i + add) : i)));

/** out = degenerate + factor * (img - degenerate), clipped (PIL ImageEnhance._Enhance). */
function blend(img: Img, degenerate: Uint8Array | null, factor: number): Img {
  const { data } = img;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const d = degenerate ? degenerate[i] : 0;
    out[i] = clamp8(d + factor * (data[i] - d));
  }
  return { ...img, data: out };
}

function grayOf(img: Img): Uint8Array {
  const { data, c } = img;
  const n = data.length / c;
  const g = new Uint8Array(n);
  if (c === 1) g.set(data);
  // PIL 'L' conversion: L = R*299/1000 + G*587/1000 + B*114/1000 (fixed point, rounded)
  else for (let i = 0; i < n; i++) g[i] = (data[i * c] * 19595 + data[i * c + 1] * 38470 + data[i * c + 2] * 7471 + 0x8000) >> 16;
  return g;
}

export function color(img: Img, factor: number): Img {
  if (img.c === 1) return img;
  const g = grayOf(img), deg = new Uint8Array(img.data.length);
  for (let i = 0; i < g.length; i++) for (let k = 0; k < img.c; k++) deg[i * img.c + k] = g[i];
  return blend(img, deg, factor);
}
export function contrast(img: Img, factor: number): Img {
  const g = grayOf(img);
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i];
  const mean = Math.trunc(s / g.length + 0.5);
  return blend(img, new Uint8Array(img.data.length).fill(mean), factor);
}
export const brightness = (img: Img, factor: number): Img => blend(img, null, factor);
/** PIL ImageEnhance.Sharpness: blend with the SMOOTH-filtered image (border pixels unfiltered). */
export function sharpness(img: Img, factor: number): Img {
  const { data, h, w, c } = img;
  const deg = new Uint8Array(data);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let k = 0; k < c; k++) {
        let s = 4 * data[(y * w + x) * c + k];
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += data[((y + dy) * w + x + dx) * c + k];
        deg[(y * w + x) * c + k] = clamp8(s / 13);
      }
    }
  }
  return blend(img, deg, factor);
}

/** Output pixel (x, y) samples input at (a*x + b*y + cc, d*x + e*y + f) (PIL Image.transform
 *  AFFINE convention, pixel centres at +0.5), bilinear, `fill` outside. */
export function affine(img: Img, m: [number, number, number, number, number, number], fill: readonly number[]): Img {
  const { data, h, w, c } = img;
  const [a, b, cc, d, e, f] = m;
  const out = new Uint8Array(data.length);
  let o = 0;
  for (let y = 0; y < h; y++) {
    const oy = y + 0.5;
    for (let x = 0; x < w; x++, o += c) {
      const ox = x + 0.5;
      const sx = a * ox + b * oy + cc - 0.5, sy = d * ox + e * oy + f - 0.5;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        for (let k = 0; k < c; k++) out[o + k] = fill[k % fill.length];
        continue;
      }
      for (let k = 0; k < c; k++) {
        const fk = fill[k % fill.length];
        const px = (yy: number, xx: number): number => (xx < 0 || yy < 0 || xx >= w || yy >= h ? fk : data[(yy * w + xx) * c + k]);
        const top = px(y0, x0) + (px(y0, x0 + 1) - px(y0, x0)) * fx;
        const bot = px(y0 + 1, x0) + (px(y0 + 1, x0 + 1) - px(y0 + 1, x0)) * fx;
        out[o + k] = clamp8(top + (bot - top) * fy);
      }
    }
  }
  return { ...img, data: out };
}

/** PIL Image.rotate(degrees) about the centre (counter-clockwise for positive degrees). */
export function rotate(img: Img, degrees: number, fill: readonly number[]): Img {
  const ang = (-degrees * Math.PI) / 180;
  const cs = Math.cos(ang), sn = Math.sin(ang);
  const cx = img.w / 2, cy = img.h / 2;
  // input = R * (output - centre) + centre
  return affine(img, [cs, sn, cx - cs * cx - sn * cy, -sn, cs, cy + sn * cx - cs * cy], fill);
}
export const shearX = (img: Img, f: number, fill: readonly number[]): Img => affine(img, [1, f, 0, 0, 1, 0], fill);
export const shearY = (img: Img, f: number, fill: readonly number[]): Img => affine(img, [1, 0, 0, f, 1, 0], fill);
export const translateX = (img: Img, px: number, fill: readonly number[]): Img => affine(img, [1, 0, px, 0, 1, 0], fill);
export const translateY = (img: Img, px: number, fill: readonly number[]): Img => affine(img, [1, 0, 0, 0, 1, px], fill);

// the ops whose argument timm negates at random (_randomly_negate): one extra draw each
const SIGNED_OPS = new Set(['Rotate', 'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel']);
const drawSign = (name: string, rng: Rng): 1 | -1 => (SIGNED_OPS.has(name) && rng.next() > 0.5 ? -1 : 1);

/** Apply one named timm op at magnitude `level` (already noised/clamped). */
export function applyOp(img: Img, name: string, level: number, rng: Rng, fill: readonly number[], translatePct = 0.45): Img {
  return applySignedOp(img, name, level, drawSign(name, rng), fill, translatePct);
}

/** applyOp with the random sign already chosen (1 or -1; ignored by the unsigned ops). */
export function applySignedOp(img: Img, name: string, level: number, sign: number, fill: readonly number[], translatePct = 0.45): Img {
  const l = level / LEVEL_DENOM;
  const randNeg = (v: number): number => sign * v;
  switch (name) {
    case 'AutoContrast': return autoContrast(img);
    case 'Equalize': return equalize(img);
    case 'Invert': return invert(img);
    case 'Rotate': return rotate(img, randNeg(l * 30), fill);
    case 'Posterize': return posterize(img, Math.trunc(l * 4));
    case 'PosterizeIncreasing': return posterize(img, 4 - Math.trunc(l * 4));
    case 'Solarize': return solarize(img, Math.trunc(l * 256));
    case 'SolarizeIncreasing': return solarize(img, 256 - Math.trunc(l * 256));
    case 'SolarizeAdd': return solarizeAdd(img, Math.trunc(l * 110));
    case 'Color': return color(img, l * 1.8 + 0.1);
    case 'Contrast': return contrast(img, l * 1.8 + 0.1);
    case 'Brightness': return brightness(img, l * 1.8 + 0.1);
    case 'Sharpness': return sharpness(img, l * 1.8 + 0.1);
    case 'ColorIncreasing': return color(img, Math.max(0.1, 1 + randNeg(l * 0.9)));
    case 'ContrastIncreasing': return contrast(img, Math.max(0.1, 1 + randNeg(l * 0.9)));
    case 'BrightnessIncreasing': return brightness(img, Math.max(0.1, 1 + randNeg(l * 0.9)));
    case 'SharpnessIncreasing': return sharpness(img, Math.max(0.1, 1 + randNeg(l * 0.9)));
    case 'ShearX': return shearX(img, randNeg(l * 0.3), fill);
    case 'ShearY': return shearY(img, randNeg(l * 0.3), fill);
    case 'TranslateXRel': return translateX(img, randNeg(l * translatePct) * img.w, fill);
    case 'TranslateYRel': return translateY(img, randNeg(l * translatePct) * img.h, fill);
    default: throw new Error(`RandAugment: unknown op '${name}'`);
  }
}

/** One applied RandAugment op: its name, magnitude level (noised, clamped) and sign. */
export interface RandAugmentOp { name: string; level: number; sign: 1 | -1 }

/** The random choices of timm RandAugment.__call__ (n ops with replacement, each kept with
 *  probability p, magnitude m + noise clamped to [0, mmax], a sign for the signed ops), drawn in
 *  the same order as randAugment() draws them, so both give the same image for the same Rng. */
export function randAugmentParams(cfg: RandAugmentConfig | string, rng: Rng): RandAugmentOp[] {
  const c = typeof cfg === 'string' ? parseRandAugment(cfg) : cfg;
  const chosen: string[] = [];
  for (let i = 0; i < c.n; i++) chosen.push(c.ops[rng.int(c.ops.length)]);
  const ops: RandAugmentOp[] = [];
  for (const name of chosen) {
    if (c.p < 1 && rng.next() > c.p) continue;
    let mag = c.m;
    if (c.mstd === Infinity) mag = rng.next() * mag;
    else if (c.mstd > 0) mag = rng.normal(mag, c.mstd);
    mag = Math.max(0, Math.min(mag, c.mmax));
    ops.push({ name, level: mag, sign: drawSign(name, rng) });
  }
  return ops;
}

/** Applies ops chosen by randAugmentParams (no randomness). */
export function applyRandAugmentOps(img: Img, ops: readonly RandAugmentOp[], fill: readonly number[] = [128, 128, 128], translatePct = 0.45): Img {
  let x = img;
  for (const o of ops) x = applySignedOp(x, o.name, o.level, o.sign, fill, translatePct);
  return x;
}

/** timm RandAugment.__call__: n ops chosen with replacement, each applied with probability p at
 *  magnitude m (+ Gaussian noise mstd, clamped to [0, mmax]). fill defaults to grey 128. */
export function randAugment(img: Img, cfg: RandAugmentConfig | string, rng: Rng, fill: readonly number[] = [128, 128, 128]): Img {
  const c = typeof cfg === 'string' ? parseRandAugment(cfg) : cfg;
  return applyRandAugmentOps(img, randAugmentParams(c, rng), fill, c.translatePct);
}
