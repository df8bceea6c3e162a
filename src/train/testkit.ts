// Test support (not a test file): a Fashion-MNIST subset as tensors and a small pre-trained teacher,
// shared by the method tests so each file trains its teacher once. It lives in train/ because it
// trains (train/fit.ts); the methods table batches through it too.
import { Tensor, tidy, keep, fromTypedArray, manualSeed, setNumThreads } from '../tensor';
import { loadFashionMnist, stratifiedSubset, gatherBatch } from '../data';
import { imagesToTensor, labelsToTensor, FMNIST_NORM } from '../data/batch';
import { createModel, Classifier } from '../models/registry';
import '../models';
import { CrossEntropyOnly } from '../distill/methods/ce';
import { fit, accuracy } from './fit';
import * as assert from 'node:assert/strict';
import type { Distiller, DistillBatch, StepContext } from '../distill/distiller';
import { Rng } from '../util/rng';

export interface Data { x: Tensor; y: Tensor; labels: Int32Array; xTest: Tensor; yTest: Tensor }

export function loadData(perClass = 30, testPerClass = 30, seed = 1): Data {
  setNumThreads(1);   // CI boxes are small and shared: OpenMP spinning under contention is far slower than one thread
  manualSeed(seed);
  const train = stratifiedSubset(loadFashionMnist(), perClass, seed);
  const test = stratifiedSubset(loadFashionMnist({ split: 'test' }), testPerClass, seed);
  const tr = gatherBatch(train), te = gatherBatch(test);
  return {
    x: keep(imagesToTensor(tr.images, tr.labels.length, 28, 28, 1, { norm: FMNIST_NORM })),
    y: keep(labelsToTensor(tr.labels)),
    labels: tr.labels,
    xTest: keep(imagesToTensor(te.images, te.labels.length, 28, 28, 1, { norm: FMNIST_NORM })),
    yTest: keep(labelsToTensor(te.labels)),
  };
}

/** Random batches (with dataset indices) from the training tensors. */
export function batcher(d: Data, batchSize = 32, seed = 0): (step: number) => DistillBatch {
  const rng = new Rng(seed);
  const n = d.y.shape[0];
  return () => {
    const idx = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) idx[i] = rng.int(n);
    const it = fromTypedArray(idx).to('int64');
    return { x: d.x.indexSelect(0, it), y: d.y.indexSelect(0, it), indices: idx };
  };
}

export function makeModel(name: string): Classifier {
  return createModel(name, { numClasses: 10, inChans: 1, imgSize: 28 });
}

/** A teacher trained with CE for `steps` steps; returns it in eval mode with its test accuracy. */
export function trainTeacher(d: Data, name = 'resnet14', steps = 150, lr = 0.05): { teacher: Classifier; acc: number } {
  const teacher = makeModel(name);
  fit(new CrossEntropyOnly(teacher), batcher(d, 32, 99), { steps, lr });
  teacher.eval();
  return { teacher, acc: accuracy((x) => teacher.call(x), d.xTest, d.yTest) };
}

/** Mean of the first and last `k` values. */
export function firstLast(v: number[], k = 15): [number, number] {
  const m = (a: number[]) => a.reduce((s, c) => s + c, 0) / a.length;
  return [m(v.slice(0, k)), m(v.slice(-k))];
}
export { tidy };

/** Each term of a method's step, backpropagated alone, reaches the distiller's trainable
 *  parameters (a detached student would pass a value check) and never the teachers. */
export function assertGradientsFlow(name: string, dist: Distiller, batch: DistillBatch, ctx: StepContext): void {
  const names = tidy(() => Object.keys(dist.trainStep(batch, ctx).terms));
  for (const k of names) {
    dist.zeroGrad();
    tidy(() => {
      const t = dist.trainStep(batch, ctx).terms[k];
      if (t.requiresGrad) t.backward();
      const moved = dist.parameters().some((p) => p.grad !== null && p.grad.abs().sum().item() > 0);
      assert.ok(moved, `${name}: term ${k} gives no gradient to the student or the method's modules`);
      for (const teacher of dist.teachers) if ('parameters' in teacher) assert.ok((teacher as Classifier).parameters().every((p) => p.grad === null), `${name}: term ${k} reaches a teacher`);
    });
  }
  dist.zeroGrad();
}
