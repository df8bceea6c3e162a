// CIFAR-10 / CIFAR-100 "binary version" readers (https://www.cs.toronto.edu/~kriz/cifar.html).
// A record is the label byte(s) followed by 3072 pixel bytes stored channel-planar
// (1024 R, 1024 G, 1024 B, each row-major 32x32); we transpose to HWC on load so every
// dataset in civet has the same NHWC layout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InMemoryDataset } from './dataset';
import { DatasetError } from './errors';

const SIDE = 32;
const PIXELS = SIDE * SIDE * 3;

export const CIFAR10_ENV = 'CIVET_CIFAR10';
export const CIFAR100_ENV = 'CIVET_CIFAR100';

export type CifarSplit = 'train' | 'test';

export interface Cifar10Options {
  split?: CifarSplit;
  /** cifar-10-batches-bin itself, or a directory containing it; default $CIVET_CIFAR10. */
  root?: string;
}

export interface Cifar100Options {
  split?: CifarSplit;
  /** cifar-100-binary itself, or a directory containing it; default $CIVET_CIFAR100. */
  root?: string;
  /** Which label becomes `labels`: the 100 fine classes (default) or the 20 superclasses. */
  labelMode?: 'fine' | 'coarse';
}

const cache = new Map<string, InMemoryDataset>();

export function clearCifarCache(): void {
  cache.clear();
}

/** Accept the batch directory itself or its parent (torchvision-style root). */
function resolveRoot(root: string | undefined, env: string, subdir: string, probe: string, url: string): string {
  const given = root ?? process.env[env];
  if (given === undefined) {
    throw new DatasetError(
      `${subdir}: no dataset root given; pass the root option or set ${env} to the extracted ${subdir} directory (download ${url})`,
    );
  }
  const candidates = [path.resolve(given), path.resolve(given, subdir)];
  for (const c of candidates) if (fs.existsSync(path.join(c, probe))) return c;
  throw new DatasetError(
    `${subdir} not found: looked for ${candidates.map((c) => path.join(c, probe)).join(' and ')} ` +
      `(root from ${root !== undefined ? 'root option' : `$${env}`}); download and extract ${url}`,
    candidates[0],
  );
}

/** Read a names file: one class name per line, blank lines ignored, exactly `expect` names. */
function readNames(file: string, expect: number): string[] {
  if (!fs.existsSync(file)) throw new DatasetError(`class-name file missing`, file);
  const names = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== expect) throw new DatasetError(`expected ${expect} class names, found ${names.length}`, file);
  return names;
}

interface ReadSpec {
  labelBytes: number; // 1 for CIFAR-10, 2 (coarse, fine) for CIFAR-100
  labelLimits: number[]; // exclusive upper bound of each label byte
  labelNames: string[]; // for error messages
}

/** Parse record files into NHWC pixels plus one Int32Array per label byte. */
function readRecords(files: string[], spec: ReadSpec): { images: Uint8Array; labels: Int32Array[] } {
  const recSize = spec.labelBytes + PIXELS;
  const bufs = files.map((f) => {
    let b: Buffer;
    try {
      b = fs.readFileSync(f);
    } catch (err) {
      throw new DatasetError(`cannot read: ${(err as Error).message}`, f, { cause: err });
    }
    if (b.length === 0 || b.length % recSize !== 0) {
      throw new DatasetError(
        `file length ${b.length} is not a positive multiple of the ${recSize}-byte record size ` +
          `(${Math.floor(b.length / recSize)} whole records + ${b.length % recSize} bytes): truncated or not a CIFAR binary file`,
        f,
      );
    }
    return b;
  });
  const n = bufs.reduce((a, b) => a + b.length / recSize, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = spec.labelLimits.map(() => new Int32Array(n));
  const plane = SIDE * SIDE;
  let k = 0;
  bufs.forEach((b, fi) => {
    for (let off = 0; off < b.length; off += recSize, k++) {
      for (let j = 0; j < spec.labelBytes; j++) {
        const l = b[off + j];
        if (l >= spec.labelLimits[j]) {
          throw new DatasetError(
            `${spec.labelNames[j]} label ${l} of record ${off / recSize} (byte offset ${off + j}) is outside 0..${spec.labelLimits[j] - 1}`,
            files[fi],
          );
        }
        labels[j][k] = l;
      }
      const src = off + spec.labelBytes;
      const dst = k * PIXELS;
      for (let p = 0; p < plane; p++) {
        images[dst + 3 * p] = b[src + p];
        images[dst + 3 * p + 1] = b[src + plane + p];
        images[dst + 3 * p + 2] = b[src + 2 * plane + p];
      }
    }
  });
  return { images, labels };
}

export function loadCifar10(opts: Cifar10Options = {}): InMemoryDataset {
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new DatasetError(`CIFAR-10: unknown split '${split}', expected 'train' or 'test'`);
  const dir = resolveRoot(opts.root, CIFAR10_ENV, 'cifar-10-batches-bin', 'batches.meta.txt', 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz');
  const names = split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
  const files = names.map((f) => path.join(dir, f));
  for (const f of files) if (!fs.existsSync(f)) throw new DatasetError(`CIFAR-10 ${split} batch file missing`, f);
  const key = `10\0${dir}\0${split}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const classNames = readNames(path.join(dir, 'batches.meta.txt'), 10);
  const { images, labels } = readRecords(files, { labelBytes: 1, labelLimits: [10], labelNames: ['class'] });
  const ds = new InMemoryDataset({ name: `cifar10/${split}`, channels: 3, height: SIDE, width: SIDE, classNames, images, labels: labels[0] });
  cache.set(key, ds);
  return ds;
}

export function loadCifar100(opts: Cifar100Options = {}): InMemoryDataset {
  const split = opts.split ?? 'train';
  const mode = opts.labelMode ?? 'fine';
  if (split !== 'train' && split !== 'test') throw new DatasetError(`CIFAR-100: unknown split '${split}', expected 'train' or 'test'`);
  if (mode !== 'fine' && mode !== 'coarse') throw new DatasetError(`CIFAR-100: unknown labelMode '${mode}', expected 'fine' or 'coarse'`);
  const dir = resolveRoot(opts.root, CIFAR100_ENV, 'cifar-100-binary', 'fine_label_names.txt', 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz');
  const file = path.join(dir, `${split}.bin`);
  if (!fs.existsSync(file)) throw new DatasetError(`CIFAR-100 ${split} file missing`, file);
  const key = `100\0${dir}\0${split}\0${mode}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const classNames =
    mode === 'fine' ? readNames(path.join(dir, 'fine_label_names.txt'), 100) : readNames(path.join(dir, 'coarse_label_names.txt'), 20);
  // Record layout: coarse label byte, fine label byte, pixels.
  const { images, labels } = readRecords([file], { labelBytes: 2, labelLimits: [20, 100], labelNames: ['coarse', 'fine'] });
  const ds = new InMemoryDataset({
    name: `cifar100-${mode}/${split}`,
    channels: 3,
    height: SIDE,
    width: SIDE,
    classNames,
    images,
    labels: mode === 'fine' ? labels[1] : labels[0],
  });
  cache.set(key, ds);
  return ds;
}
