// Data-free image synthesis from a trained teacher (Yin et al. CVPR 2020; NVlabs/DeepInversion): optimise a batch of inputs
// so every BatchNorm's batch statistics match its running statistics ('l2' = DeepInversion
// R_feature, 'gaussianKL' = The Knowledge Within), plus CE to the targets, TV/L2 priors, jitter/flip,
// and optionally the ADI competition term against a student. Then KD on the synthesized images.
import * as fs from 'node:fs';
import { Tensor, F, randn, tidy, keep, noGrad, fromTypedArray } from '../../tensor';
import { Module } from '../../nn/module';
import { BatchNorm2d } from '../../nn/layers';
import { Adam } from '../../optim/adam';
import { bnStatisticsLoss, bnGaussianKl, imagePriorTv, adiCompetition } from '../losses/classic';
import type { Classifier } from '../../models/registry';
import { Rng } from '../../util/rng';

export interface SynthesisOptions {
  batchSize: number; numClasses: number; shape: [number, number, number];   // [C, H, W]
  iterations: number; lr: number; betas: [number, number];
  metric: 'l2' | 'gaussianKL';
  rFeature: number; firstBnMultiplier: number; ce: number; tvL2: number; tvL1: number; l2: number;
  adiScale: number; adiTemperature: number; jitter: number; flip: boolean;
  /** per-channel clamp of the pixels after each step ([lo, hi] in normalised space) or null */
  clip: [number, number] | null;
  targets: number[] | null; seed: number;
  onStep?: (it: number, terms: { bn: number; ce: number; tv: number; adi: number; total: number }) => void;
}

export const DEEPINVERSION_CIFAR_DEFAULTS: Omit<SynthesisOptions, 'numClasses' | 'shape'> = {
  batchSize: 256, iterations: 2000, lr: 0.1, betas: [0.9, 0.999], metric: 'l2',
  rFeature: 10, firstBnMultiplier: 1, ce: 1, tvL2: 2.5e-5, tvL1: 0, l2: 0,
  adiScale: 0, adiTemperature: 3, jitter: 2, flip: false, clip: null, targets: null, seed: 0,
};

/** Sum over every BatchNorm2d of the BN-statistics loss of its input (first one × firstBnMultiplier). */
export function bnHooks(model: Module, metric: 'l2' | 'gaussianKL', firstMultiplier = 1): { losses: Tensor[]; total(): Tensor; remove(): void } {
  const bns = [...model.namedModules()].map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  const losses: Tensor[] = [];
  const removers = bns.map((bn, i) => bn.registerForwardHook((_m, inputs) => {
    const x = inputs[0] as Tensor;
    const l = metric === 'l2' ? bnStatisticsLoss(x, bn.running_mean, bn.running_var) : bnGaussianKl(x, bn.running_mean, bn.running_var);
    losses.push(i === 0 ? l.mul(firstMultiplier) : l);
  }));
  return {
    losses,
    total: () => losses.reduce((a, c) => a.add(c)),
    remove: () => { for (const r of removers) r(); },
  };
}

/** The BN-statistics loss of a batch under the teacher (eval mode), for monitoring. */
export function bnStatisticsOf(teacher: Classifier, x: Tensor, metric: 'l2' | 'gaussianKL' = 'l2'): number {
  return tidy(() => noGrad(() => {
    const h = bnHooks(teacher, metric);
    try { teacher.call(x); return h.total().item(); } finally { h.remove(); }
  }));
}

/** Synthesizes a batch; returns the best (lowest-loss) images [B, C, H, W] and their targets. */
export function synthesizeImages(teacher: Classifier, o: SynthesisOptions, student?: Classifier): { images: Tensor; targets: Tensor; history: number[] } {
  teacher.eval();
  student?.eval();
  const rng = new Rng(o.seed);
  const tg = o.targets ?? Array.from({ length: o.batchSize }, (_, i) => i % o.numClasses);
  const targets = keep(fromTypedArray(BigInt64Array.from(tg.map(BigInt))));
  const x = keep(randn([tg.length, ...o.shape]).requiresGrad_(true));
  const opt = new Adam([{ name: 'inputs', tensor: x }], { lr: o.lr, betas: o.betas });
  let best: Tensor | null = null, bestLoss = Infinity;
  const history: number[] = [];
  const hooks = bnHooks(teacher, o.metric, o.firstBnMultiplier);
  try {
    for (let it = 0; it < o.iterations; it++) {
      const r = tidy(() => {
        hooks.losses.length = 0;
        const ox = o.jitter ? rng.int(2 * o.jitter + 1) - o.jitter : 0, oy = o.jitter ? rng.int(2 * o.jitter + 1) - o.jitter : 0;
        let xj = o.jitter ? x.roll([ox, oy], [2, 3]) : x;
        if (o.flip && rng.next() < 0.5) xj = xj.flip(3);
        const z = teacher.call(xj) as Tensor;
        const bn = hooks.total();
        const ce = F.cross_entropy(z, targets);
        const { l1, l2: tv2 } = imagePriorTv(xj);
        let total = ce.mul(o.ce).add(bn.mul(o.rFeature)).add(tv2.mul(o.tvL2)).add(l1.mul(o.tvL1));
        if (o.l2 > 0) total = total.add(x.norm(2).mul(o.l2));
        let adi = 0;
        if (o.adiScale > 0 && student) {
          const c = adiCompetition(student.call(xj) as Tensor, z, o.adiTemperature);
          adi = c.item();
          total = total.add(c.mul(o.adiScale));
        }
        opt.zeroGrad();
        total.backward();
        opt.step();
        if (o.clip) noGrad(() => x.clamp_(o.clip![0], o.clip![1]));
        return { bn: bn.item(), ce: ce.item(), tv: tv2.item(), adi, total: total.item() };
      });
      history.push(r.bn);
      o.onStep?.(it, r);
      if (r.total < bestLoss) { bestLoss = r.total; best?.dispose(); best = keep(noGrad(() => x.detach().clone())); }
    }
  } finally { hooks.remove(); }
  x.grad = null;
  const images = best ?? keep(x.detach().clone());
  if (best) x.dispose();
  return { images, targets, history };
}

/** Writes a batch [B, C, H, W] (normalised with mean/std) as a PNG grid with `cols` columns. */
export async function saveImageGrid(images: Tensor, file: string, o: { mean?: number[]; std?: number[]; cols?: number; pad?: number } = {}): Promise<void> {
  const sharp = require('sharp');
  const [B, C, H, W] = images.shape;
  const cols = o.cols ?? Math.ceil(Math.sqrt(B)), rows = Math.ceil(B / cols), pad = o.pad ?? 2;
  const mean = o.mean ?? Array(C).fill(0), std = o.std ?? Array(C).fill(1);
  const data = noGrad(() => images.detach().to('float32').cpu().contiguous().toTypedArray()) as Float32Array;
  const GW = cols * (W + pad) + pad, GH = rows * (H + pad) + pad, outC = C === 1 ? 1 : 3;
  const buf = new Uint8Array(GW * GH * outC).fill(255);
  for (let b = 0; b < B; b++) {
    const r0 = pad + Math.floor(b / cols) * (H + pad), c0 = pad + (b % cols) * (W + pad);
    for (let c = 0; c < outC; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      const v = data[((b * C + c) * H + h) * W + w] * std[c] + mean[c];
      buf[((r0 + h) * GW + c0 + w) * outC + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
    }
  }
  fs.mkdirSync(require('node:path').dirname(file), { recursive: true });
  await sharp(Buffer.from(buf), { raw: { width: GW, height: GH, channels: outC } }).png().toFile(file);
}
