// Small zoo models for the export tests, and the two states they are checked in: a random
// initialisation with every weight and BatchNorm statistic perturbed (so no zero-initialised
// head or residual gamma hides a wrong op), and the same model after a few SGD steps in
// training mode (BatchNorm running statistics moved by real batches).
import { Tensor, tidy, noGrad, randn, rand, randint, manualSeed, F } from '../tensor';
import { SGD } from '../optim';
import { BatchNorm2d } from '../nn/layers';
import type { Module } from '../nn/module';
import { createModel, Classifier } from '../models/registry';
import { ResNet } from '../models/resnet';
import { train } from '../train/trainer';
import '../models';

export interface ExportCase { name: string; input: [number, number, number]; build(): Classifier; readouts?: string[] }

const vitDims = { numClasses: 10, imgSize: 16, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2 };

/** One small model per exportable architecture (widths and images cut down so a case runs in a second or two). */
export const EXPORT_CASES: ExportCase[] = [
  { name: 'vit_tiny', input: [3, 16, 16], build: () => createModel('vit_tiny', vitDims) },
  { name: 'deit_tiny_distilled', input: [3, 16, 16], build: () => createModel('deit_tiny_distilled', vitDims), readouts: ['mean', 'cls', 'dist', 'cskd_mean3'] },
  { name: 'civt_tiny', input: [3, 16, 16], build: () => createModel('civt_tiny', vitDims), readouts: ['mean', 'cls', 'conv', 'inv'] },
  { name: 'mixer_tiny', input: [3, 16, 16], build: () => createModel('mixer_tiny', { numClasses: 10, imgSize: 16, patchSize: 4, embedDim: 32, depth: 2 }) },
  { name: 'resnet18', input: [1, 16, 16], build: () => createModel('resnet18', { numClasses: 10, inChans: 1 }) },
  // resnet50's Bottleneck blocks at two stages (the full network is 100 MB of weights)
  { name: 'resnet (bottleneck)', input: [3, 16, 16], build: () => new ResNet('bottleneck', [1, 1], { numClasses: 10 }) },
  { name: 'resnet8', input: [3, 16, 16], build: () => createModel('resnet8', { numClasses: 10 }) },
  { name: 'wrn_16_1', input: [3, 16, 16], build: () => createModel('wrn_16_1', { numClasses: 10 }) },
  { name: 'regnety_200mf', input: [3, 32, 32], build: () => createModel('regnety_200mf', { numClasses: 10 }) },
  { name: 'rednet26', input: [3, 32, 32], build: () => createModel('rednet26', { numClasses: 10, baseWidth: 32 }) },
  { name: 'tiny_cnn', input: [1, 28, 28], build: () => createModel('tiny_cnn', { numClasses: 10, inChans: 1, width: 8 }) },
];

/** Perturbs every parameter (N(0, 0.02²) added) and sets BatchNorm statistics to non-trivial values. */
export function perturb(m: Module, seed = 1): void {
  manualSeed(seed);
  tidy(() => noGrad(() => {
    for (const p of m.parameters()) p.add_(randn(p.shape).mul(0.02));
    for (const [, b] of m.namedModules()) {
      if (!(b instanceof BatchNorm2d)) continue;
      b.running_mean.copy_(randn(b.running_mean.shape).mul(0.2));
      b.running_var.copy_(rand(b.running_var.shape).add(0.5));
    }
  }));
}

/** A few SGD steps on random images and labels, in training mode (BatchNorm statistics move). */
export function trainSteps(m: Classifier, input: number[], steps = 3, seed = 2): void {
  manualSeed(seed);
  const opt = new SGD(m, { lr: 0.01 });
  m.train();
  for (let i = 0; i < steps; i++) {
    tidy(() => {
      const x = randn([8, ...input]);
      const y = randint(0, m.numClasses, [8], { dtype: 'int64' });
      F.cross_entropy(m.forward(x), y).backward();
    });
    opt.step();
    opt.zeroGrad();
  }
  m.eval();
}

/** A few seconds of training: tiny_cnn on 8 images per class, 32×32 RGB inputs (the eval transform
 *  resizes and repeats the grey channel, which predict must reproduce). */
export async function tinyRun(dir: string, name = 'tiny'): Promise<string> {
  const s = await train({
    run: { name, seed: 1 },
    student: { model: 'tiny_cnn', options: { width: 4 } },
    data: { dataset: 'fashion-mnist', subsetPerClass: 24, testSubsetPerClass: 2, imgSize: 32, channels: 3 },
    optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 },
    epochs: 2, batchSize: 16, eval: { batchSize: 64 },
  }, { out: dir, quiet: true, log: () => {} });
  return s.runDir;
}

export type { Tensor };
