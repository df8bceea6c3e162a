// Dataset shapes shared by every loader. Pixels stay uint8 and channels-last (HWC per sample,
// NHWC for a whole buffer) because that is how the source formats decode most cheaply and how
// sharp hands back raw pixels; the tensor side converts to float NCHW once per batch.
import { Rng, type Seed } from '../util/rng';
import { DatasetError } from './errors';

export interface Sample {
  /** height*width*channels uint8 values, HWC order. May be a view into a shared buffer: copy
   *  before mutating. */
  pixels: Uint8Array;
  label: number;
}

/** A fixed-shape labelled image dataset with synchronous random access. */
export interface ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** labels[i] is the label of sample i, in [0, numClasses). */
  readonly labels: Int32Array;
  get(i: number): Sample;
}

export interface InMemoryInit {
  name: string;
  channels: number;
  height: number;
  width: number;
  classNames: readonly string[];
  /** NHWC uint8, length = labels.length * height * width * channels. */
  images: Uint8Array;
  labels: Int32Array;
}

/** All samples decoded into one contiguous NHWC uint8 buffer (`images`). */
export class InMemoryDataset implements ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** NHWC: sample i occupies images[i*sampleSize, (i+1)*sampleSize). */
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly sampleSize: number;

  constructor(init: InMemoryInit) {
    const { name, channels, height, width, classNames, images, labels } = init;
    for (const [k, v] of [['channels', channels], ['height', height], ['width', width]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new DatasetError(`dataset ${name}: ${k} must be a positive integer, got ${v}`);
    }
    if (classNames.length < 1) throw new DatasetError(`dataset ${name}: needs at least one class name`);
    this.sampleSize = height * width * channels;
    if (images.length !== labels.length * this.sampleSize) {
      throw new DatasetError(
        `dataset ${name}: images buffer has ${images.length} bytes, expected ${labels.length} x ${height}x${width}x${channels} = ${labels.length * this.sampleSize}`,
      );
    }
    checkLabels(name, labels, classNames.length);
    this.name = name;
    this.length = labels.length;
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.classNames = classNames;
    this.numClasses = classNames.length;
    this.images = images;
    this.labels = labels;
  }

  get(i: number): Sample {
    checkIndex(this, i);
    const off = i * this.sampleSize;
    return { pixels: this.images.subarray(off, off + this.sampleSize), label: this.labels[i] };
  }
}

/** A dataset seen through an index map: sample i of the view is parent sample indices[i]. */
export class SubsetDataset implements ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly labels: Int32Array;

  constructor(readonly parent: ImageDataset, readonly indices: Int32Array, name?: string) {
    this.name = name ?? `${parent.name}[subset ${indices.length}]`;
    this.labels = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i];
      if (!Number.isInteger(j) || j < 0 || j >= parent.length) {
        throw new DatasetError(`subset of ${parent.name}: index ${j} at position ${i} is outside [0, ${parent.length})`);
      }
      this.labels[i] = parent.labels[j];
    }
    this.length = indices.length;
    this.channels = parent.channels;
    this.height = parent.height;
    this.width = parent.width;
    this.numClasses = parent.numClasses;
    this.classNames = parent.classNames;
  }

  get(i: number): Sample {
    checkIndex(this, i);
    return this.parent.get(this.indices[i]);
  }
}

export function checkIndex(ds: { name: string; length: number }, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.length) {
    throw new RangeError(`dataset ${ds.name}: index ${i} out of range [0, ${ds.length})`);
  }
}

export function checkLabels(where: string, labels: Int32Array, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0 || labels[i] >= numClasses) {
      throw new DatasetError(`${where}: label ${labels[i]} of sample ${i} is outside [0, ${numClasses})`);
    }
  }
}

/** Number of samples per class. */
export function classCounts(ds: Pick<ImageDataset, 'labels' | 'numClasses'>): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (const l of ds.labels) counts[l]++;
  return counts;
}

/** Indices of each class, in dataset order. */
function indicesByClass(ds: ImageDataset): number[][] {
  const by: number[][] = Array.from({ length: ds.numClasses }, () => []);
  for (let i = 0; i < ds.length; i++) by[ds.labels[i]].push(i);
  return by;
}

/** `perClass` random samples of every class (seeded). The view keeps the parent's order. */
export function stratifiedSubset(ds: ImageDataset, perClass: number, seed: Seed): SubsetDataset {
  if (!Number.isInteger(perClass) || perClass < 1) {
    throw new RangeError(`stratifiedSubset(${ds.name}): perClass must be a positive integer, got ${perClass}`);
  }
  const rng = new Rng(seed);
  const picked: number[] = [];
  indicesByClass(ds).forEach((idx, c) => {
    if (idx.length < perClass) {
      throw new DatasetError(
        `stratifiedSubset(${ds.name}): class ${c} (${ds.classNames[c]}) has ${idx.length} samples, fewer than perClass=${perClass}`,
      );
    }
    // Partial Fisher-Yates: the first perClass slots end up a uniform random sample.
    for (let i = 0; i < perClass; i++) {
      const j = i + rng.int(idx.length - i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
      picked.push(idx[i]);
    }
  });
  const indices = Int32Array.from(picked).sort();
  return new SubsetDataset(ds, indices, `${ds.name}[${perClass}/class]`);
}

/** Seeded, stratified split. The validation set holds round(length*valFraction) samples,
 *  apportioned to classes by largest remainder so each class keeps its proportion. */
export function trainValSplit(ds: ImageDataset, valFraction: number, seed: Seed): { train: SubsetDataset; val: SubsetDataset } {
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new RangeError(`trainValSplit(${ds.name}): valFraction must be in (0, 1), got ${valFraction}`);
  }
  const by = indicesByClass(ds);
  const target = Math.round(ds.length * valFraction);
  const exact = by.map((idx) => idx.length * valFraction);
  const nVal = exact.map(Math.floor);
  let short = target - nVal.reduce((a, b) => a + b, 0);
  // Largest fractional part first; ties go to the lower class index so the split is deterministic.
  const order = exact.map((e, c) => [e - Math.floor(e), c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, c] of order) {
    if (short <= 0) break;
    if (nVal[c] < by[c].length) {
      nVal[c]++;
      short--;
    }
  }
  const rng = new Rng(seed);
  const train: number[] = [];
  const val: number[] = [];
  by.forEach((idx, c) => {
    rng.shuffle(idx);
    val.push(...idx.slice(0, nVal[c]));
    train.push(...idx.slice(nVal[c]));
  });
  return {
    train: new SubsetDataset(ds, Int32Array.from(train).sort(), `${ds.name}[train]`),
    val: new SubsetDataset(ds, Int32Array.from(val).sort(), `${ds.name}[val]`),
  };
}

/** Copy the given samples (default: all) into one NHWC buffer plus labels: the hand-off point
 *  from a dataset to a batch tensor. */
export function gatherBatch(ds: ImageDataset, indices?: ArrayLike<number>): { images: Uint8Array; labels: Int32Array } {
  const n = indices ? indices.length : ds.length;
  const size = ds.height * ds.width * ds.channels;
  const images = new Uint8Array(n * size);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const { pixels, label } = ds.get(indices ? indices[k] : k);
    if (pixels.length !== size) {
      throw new DatasetError(`dataset ${ds.name}: sample ${indices ? indices[k] : k} has ${pixels.length} bytes, expected ${size}`);
    }
    images.set(pixels, k * size);
    labels[k] = label;
  }
  return { images, labels };
}

/** A contiguous in-memory copy of any dataset (e.g. to turn a subset view into one tensor). */
export function materialize(ds: ImageDataset, name = ds.name): InMemoryDataset {
  const { images, labels } = gatherBatch(ds);
  return new InMemoryDataset({ name, channels: ds.channels, height: ds.height, width: ds.width, classNames: ds.classNames, images, labels });
}
