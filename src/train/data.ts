// Datasets and loaders for a run, from the config's `data` section.
import * as path from 'node:path';
import { loadFashionMnist, loadCifar10, loadCifar100, ImageFolder, stratifiedSubset, materialize, gatherBatch, type ImageDataset, type InMemoryDataset } from '../data';
import { DataLoader } from '../data/loader';
import { IMAGENET_NORM, CIFAR_NORM, type TransformSpec } from '../data/transforms';
import { imagesToTensor, labelsToTensor, FMNIST_NORM, type Normalize } from '../data/batch';
import type { Tensor } from '../tensor';
import type { Config } from './schema';
import { cacheViewSet } from './cache/setup';

export interface RunData { train: InMemoryDataset; test: InMemoryDataset; norm: Normalize; numClasses: number; classNames: readonly string[] }

export async function loadRunData(c: Config, baseDir = '.'): Promise<RunData> {
  const d = c.data;
  const root = d.root ? path.resolve(baseDir, d.root) : undefined;
  let train: ImageDataset, test: ImageDataset, norm: Normalize;
  switch (d.dataset) {
    case 'fashion-mnist': train = loadFashionMnist({ split: 'train', root }); test = loadFashionMnist({ split: 'test', root }); norm = FMNIST_NORM; break;
    case 'cifar10': train = loadCifar10({ split: 'train', root }); test = loadCifar10({ split: 'test', root }); norm = CIFAR_NORM; break;
    case 'cifar100': train = loadCifar100({ split: 'train', root }); test = loadCifar100({ split: 'test', root }); norm = CIFAR_NORM; break;
    case 'imagefolder': {
      if (!root || !d.valRoot) throw new Error('data: imagefolder needs root (training images) and valRoot (evaluation images)');
      train = await new ImageFolder(root, { size: d.imgSize }).load();
      // the evaluation folder must hold the training folder's classes, matched by name
      test = await new ImageFolder(path.resolve(baseDir, d.valRoot), { size: d.imgSize, classes: train.classNames }).load();
      norm = IMAGENET_NORM;
      break;
    }
  }
  const seed = c.run.seed;
  const trainSet = d.subsetPerClass ? materialize(stratifiedSubset(train, d.subsetPerClass, seed)) : (train as InMemoryDataset);
  const testSet = d.testSubsetPerClass ? materialize(stratifiedSubset(test, d.testSubsetPerClass, seed + 1)) : (test as InMemoryDataset);
  return { train: trainSet, test: testSet, norm, numClasses: train.numClasses, classNames: train.classNames };
}

/** `dist`: this rank's share of each global batch (train/ddp.ts): batchSize / worldSize samples
 *  from a DistributedSampler over the same permutation the single-process sampler draws. */
export function trainLoader(c: Config, data: RunData, o: { classPairs?: boolean; dist?: { rank: number; worldSize: number; batchSize: number } } = {}): DataLoader {
  const d = c.data, a = d.augment;
  const t: TransformSpec[] = [];
  if (data.train.height !== d.imgSize || data.train.width !== d.imgSize) t.push({ name: 'resize', size: d.imgSize } as TransformSpec);
  if (a.randomCrop) t.push({ name: 'randomCrop', size: d.imgSize, padding: a.randomCrop.padding } as TransformSpec);
  if (a.flip) t.push({ name: 'horizontalFlip', p: 0.5 } as TransformSpec);
  if (a.randAugment) t.push({ name: 'randAugment', config: a.randAugment } as TransformSpec);
  const views = cacheViewSet(c);
  return new DataLoader(data.train, {
    batchSize: o.dist ? o.dist.batchSize : c.batchSize,
    sampler: o.dist ? { kind: 'distributed', rank: o.dist.rank, worldSize: o.dist.worldSize, shuffle: true, dropLast: true } : 'random', dropLast: true, transforms: t, norm: data.norm,
    outChannels: d.channels !== data.train.channels ? d.channels : undefined,
    randomErasing: a.randomErasing > 0 ? { probability: a.randomErasing } : undefined,
    mixup: a.mixup ? { ...a.mixup, numClasses: data.numClasses } : undefined,
    workers: d.workers, seed: c.run.seed, classPairs: o.classPairs,
    // a cached teacher: every sample shows one of its fixed views each epoch (data/views.ts)
    ...(views ? { views: views.views, viewSeed: views.seed } : {}),
  });
}

/** Evaluation batches in order, built synchronously (no augmentation). */
export function* evalBatches(c: Config, data: RunData, ds: InMemoryDataset = data.test): Generator<{ x: Tensor; y: Tensor; labels: Int32Array }> {
  const bs = c.eval.batchSize;
  for (let i = 0; i < ds.length; i += bs) {
    const idx = Array.from({ length: Math.min(bs, ds.length - i) }, (_, k) => i + k);
    const b = gatherBatch(ds, idx);
    const x = imagesToTensor(b.images, idx.length, ds.height, ds.width, ds.channels, {
      norm: data.norm, size: c.data.imgSize, outChannels: c.data.channels !== ds.channels ? c.data.channels : undefined,
    });
    yield { x, y: labelsToTensor(b.labels), labels: b.labels };
  }
}
