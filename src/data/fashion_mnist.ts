// Fashion-MNIST from Debian's `dataset-fashion-mnist` package (gzipped IDX files in
// /usr/share/datasets/fashion-mnist/). Decoded arrays are cached per process because the
// training set is 47 MB and several pipeline stages (teacher, student, eval) load it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InMemoryDataset } from './dataset';
import { DatasetError } from './errors';
import { parseIdx, readMaybeGzip } from './idx';

export const FASHION_MNIST_DEFAULT_ROOT = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_ENV = 'CIVET_FASHION_MNIST';

export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

const IMAGES_MAGIC = 2051; // 0x00000803: ubyte, 3 dims
const LABELS_MAGIC = 2049; // 0x00000801: ubyte, 1 dim
const SIDE = 28;

const SPLITS = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', count: 60000 },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', count: 10000 },
} as const;

export type FashionMnistSplit = keyof typeof SPLITS;

export interface FashionMnistOptions {
  split?: FashionMnistSplit;
  /** Directory holding the IDX files; default $CIVET_FASHION_MNIST, then the Debian path. */
  root?: string;
  /** Expected item count; defaults to the official 60000/10000 (override only for test fixtures). */
  expectCount?: number;
}

const cache = new Map<string, InMemoryDataset>();

/** Drop cached arrays (tests, or to free memory). */
export function clearFashionMnistCache(): void {
  cache.clear();
}

export function fashionMnistRoot(root?: string): string {
  return root ?? process.env[FASHION_MNIST_ENV] ?? FASHION_MNIST_DEFAULT_ROOT;
}

/** The file to read: `<name>.gz` as Debian ships it, or an already-gunzipped `<name>`. */
function locate(root: string, name: string, rootSource: string): string {
  const candidates = [path.join(root, `${name}.gz`), path.join(root, name)];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new DatasetError(
    `Fashion-MNIST not found: looked for ${candidates.join(' and ')} (root from ${rootSource}). ` +
      `Install it with \`apt-get install dataset-fashion-mnist\` (files go to ${FASHION_MNIST_DEFAULT_ROOT}), ` +
      `or point ${FASHION_MNIST_ENV} or the root option at a directory with the IDX files.`,
    candidates[0],
  );
}

export function loadFashionMnist(opts: FashionMnistOptions = {}): InMemoryDataset {
  const split = opts.split ?? 'train';
  const spec = SPLITS[split];
  if (!spec) throw new DatasetError(`Fashion-MNIST: unknown split '${split}', expected 'train' or 'test'`);
  const root = path.resolve(fashionMnistRoot(opts.root));
  const rootSource = opts.root !== undefined ? 'root option' : process.env[FASHION_MNIST_ENV] !== undefined ? `$${FASHION_MNIST_ENV}` : 'default';
  const count = opts.expectCount ?? spec.count;
  const imagesFile = locate(root, spec.images, rootSource);
  const labelsFile = locate(root, spec.labels, rootSource);

  const key = `${imagesFile}\0${labelsFile}\0${count}`;
  const hit = cache.get(key);
  if (hit) return hit;

  const images = parseIdx(readMaybeGzip(imagesFile), imagesFile, IMAGES_MAGIC, [count, SIDE, SIDE]);
  const labelsRaw = parseIdx(readMaybeGzip(labelsFile), labelsFile, LABELS_MAGIC, [count]);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const l = labelsRaw.data[i];
    if (l >= FASHION_MNIST_CLASSES.length) {
      throw new DatasetError(`label ${l} of item ${i} is outside 0..${FASHION_MNIST_CLASSES.length - 1}`, labelsFile);
    }
    labels[i] = l;
  }
  const ds = new InMemoryDataset({
    name: `fashion-mnist/${split}`,
    channels: 1,
    height: SIDE,
    width: SIDE,
    classNames: FASHION_MNIST_CLASSES,
    images: images.data, // HW per item with C=1, i.e. already NHWC
    labels,
  });
  cache.set(key, ds);
  return ds;
}
