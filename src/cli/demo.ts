// `civet demo`: a short, real training run on the embedded default data (Fashion-MNIST): a
// small CNN for a few hundred SGD steps, then test accuracy on all 10,000 test images.
import type { Command } from './commands';
import { loadFashionMnist, gatherBatch, RandomSampler } from '../data';
import { tidy, noGrad, F, manualSeed, Tensor } from '../tensor';
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, AdaptiveAvgPool2d } from '../nn';
import { imagesToTensor, labelsToTensor, FMNIST_NORM } from '../data/batch';
import { Progress } from '../train/progress';

export const demoCommand: Command = {
  summary: 'train a small CNN on Fashion-MNIST for a few hundred steps and print test accuracy',
  usage: `civet demo [--steps N] [--batch B] [--seed S]

Trains a 3-layer CNN with SGD (momentum 0.9) on the embedded Fashion-MNIST training set and
reports top-1 accuracy on the full test set.`,
  options: { steps: { type: 'string', default: '400' }, batch: { type: 'string', default: '64' }, seed: { type: 'string', default: '0' } },
  async run(v) {
    const steps = Number(v.steps), batch = Number(v.batch), seed = Number(v.seed);
    manualSeed(seed);
    const train = loadFashionMnist({ split: 'train' });
    const test = loadFashionMnist({ split: 'test' });
    const block = (cin: number, cout: number) => [new Conv2d(cin, cout, 3, { padding: 1, bias: false }), new BatchNorm2d(cout), new ReLU()];
    const model = new Sequential(
      ...block(1, 32), new MaxPool2d(2), ...block(32, 64), new MaxPool2d(2), ...block(64, 128),
      new AdaptiveAvgPool2d(1), new Flatten(), new Linear(128, 10));
    const params = model.parameters();
    const momentum = params.map((p) => noGrad(() => p.mul(0)).keep());
    const sampler = new RandomSampler(train.length, seed);
    const progress = new Progress({ totalEpochs: 1, stepsPerEpoch: steps });
    const batchOf = (ds: typeof train, idx: number[]) => {
      const b = gatherBatch(ds, idx);
      return { x: imagesToTensor(b.images, idx.length, 28, 28, 1, { norm: FMNIST_NORM }), y: labelsToTensor(b.labels) };
    };
    model.train();
    for (let s = 1; s <= steps; s++) {
      if (sampler.remaining < batch) sampler.nextEpoch();
      const idx = Array.from(sampler.take(batch));
      const lr = 0.05 * 0.5 * (1 + Math.cos(Math.PI * (s - 1) / steps));
      const loss = tidy(() => {
        const { x, y } = batchOf(train, idx);
        model.zeroGrad();
        const l = F.cross_entropy(model.call(x), y);
        l.backward();
        noGrad(() => params.forEach((p, i) => {
          const g = p.grad!.add(p, 5e-4);
          momentum[i].mul_(0.9).add_(g);
          p.add_(momentum[i], -lr);
        }));
        return l.item();
      });
      progress.update({ epoch: 0, step: s, loss, images: batch });
    }
    progress.finish();
    model.eval();
    let correct = 0;
    for (let i = 0; i < test.length; i += 500) {
      const idx = Array.from({ length: Math.min(500, test.length - i) }, (_, k) => i + k);
      correct += tidy(() => noGrad(() => {
        const { x, y } = batchOf(test, idx);
        return model.call(x).argmax(1).eq(y).sum().item();
      }));
    }
    const acc = correct / test.length;
    process.stdout.write(`Fashion-MNIST test accuracy after ${steps} steps: ${(100 * acc).toFixed(2)}% (${correct}/${test.length}; chance is 10%)\n`);
    momentum.forEach((m: Tensor) => m.dispose());
    model.dispose();
    return 0;
  },
};
