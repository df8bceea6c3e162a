// DataLoader: sampler -> batches of indices -> (worker threads: decode + per-sample transforms on
// uint8 HWC) -> main thread: float NCHW tensor, batch-level randomErasing and mixup/cutmix.
//
// Reproducibility: each batch's augmentation Rng is derived from (seed, rank, epoch, position of
// the batch's first index in the epoch), so results do not depend on worker count or
// scheduling, and a loader restored from state() continues with exactly the batches the
// uninterrupted one would have produced. state() reports the position of batches *yielded* to
// the caller, not those prefetched.
//
// Datasets reach the workers as descriptions (see loader_worker.ts): an InMemoryDataset (or any
// synchronous ImageDataset, materialised first) is copied once into a SharedArrayBuffer that all
// workers read; an ImageFolder is passed as its file list and decoded in the workers with sharp;
// {kind: 'fashion-mnist'} lets every worker load the IDX files itself.
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Tensor } from '../tensor';
import type { Normalize } from './batch';
import { Rng, deriveSeed } from '../util/rng';
import { InMemoryDataset, materialize, type ImageDataset } from './dataset';
import { DatasetError } from './errors';
import { ImageFolder } from './image_folder';
import { buildBatch, openSource, type DatasetSource, type RawBatch, type SampleSource, type WorkerInit, type WorkerJob, type WorkerReply } from './loader_worker';
import { Mixup, type MixupOptions } from './mix';
import { BatchSampler, DistributedSampler, RASampler, RandomSampler, SequentialSampler, type Sampler, type SamplerState } from './sampler';
import { Compose, randomErasing, randomErasingRecorded, type RandomErasingOptions, type TransformSpec, type ViewParams } from './transforms';
import { pickView, viewKey, viewSeed } from './views';

export type SamplerSpec =
  | 'random'
  | 'sequential'
  | { kind: 'random' }
  | { kind: 'sequential' }
  | { kind: 'distributed'; rank: number; worldSize: number; shuffle?: boolean; dropLast?: boolean }
  | { kind: 'ra'; rank?: number; worldSize?: number; numRepeats?: number; shuffle?: boolean; roundTo?: number };

export interface DataLoaderOptions {
  batchSize: number;
  /** A sampler spec, or a Sampler instance (whose seed is used as-is). Default 'random'. */
  sampler?: SamplerSpec | Sampler;
  dropLast?: boolean;
  /** Per-sample uint8 transforms, run in the workers. */
  transforms?: TransformSpec[];
  /** Bilinear resize of the float batch to outSize x outSize (on the tensor). */
  outSize?: number;
  /** Expand 1-channel batches to this many channels (on the tensor). */
  outChannels?: number;
  norm?: Normalize;
  /** timm RandomErasing on the normalised batch. */
  randomErasing?: RandomErasingOptions;
  /** timm Mixup/CutMix; adds `soft` targets to each batch. */
  mixup?: Omit<MixupOptions, 'numClasses'> & { numClasses?: number };
  /** Worker threads; 0 builds batches on the main thread. Default min(2, cores). */
  workers?: number;
  /** CS-KD's PairBatchSampler: each batch of B samples is followed by B more, one per sample, drawn
   *  uniformly from its class (seeded per batch, so a resumed run draws the same pairs); batches hold 2B. */
  classPairs?: boolean;
  /** Batches in flight ahead of the consumer; default 2 (at least `workers` is sensible). */
  prefetch?: number;
  seed?: number;
  /** Views per sample (data/views.ts): each sample gets a fixed, seeded set of this many augmented
   *  views and shows one of them each epoch; batches then carry each view's key (teacher cache). */
  views?: number;
  /** Seed of the view set (default: `seed`). A teacher-output cache shared by runs of several
   *  seeds fixes it, so they all replay the same views; which view a sample shows in an epoch
   *  still follows `seed`. */
  viewSeed?: number;
}

export interface Batch {
  /** float32 [N, C, H, W]. */
  x: Tensor;
  /** int64 [N]. */
  y: Tensor;
  /** float32 [N, numClasses] mixed soft targets, when mixup is configured. */
  soft?: Tensor;
  /** Dataset indices of the samples. */
  indices: Int32Array;
  labels: Int32Array;
  epoch: number;
  /** Position of the batch's first sample in the epoch. */
  position: number;
  /** With `views`: which view each sample shows, its parameters and its key (data/views.ts). */
  views?: BatchViews;
}

export interface BatchViews {
  view: Int32Array;
  keys: string[];
  params: ViewParams[];
  /** random-erasing boxes per sample, when random erasing is on */
  erase?: [number, number, number, number][][];
}

export interface LoaderState {
  sampler: SamplerState;
}

type AnyDataset = ImageDataset | ImageFolder | DatasetSource;

function describe(ds: AnyDataset): { source: DatasetSource; length: number; labels: Int32Array; numClasses: number; name: string } {
  if (ds instanceof ImageFolder) {
    if (ds.height === null || ds.width === null) {
      throw new DatasetError('DataLoader needs a fixed image size for an ImageFolder: construct it with the size option', ds.root);
    }
    return {
      source: { kind: 'image-folder', name: ds.name, files: ds.files, labels: ds.labels, size: [ds.height, ds.width] },
      length: ds.length, labels: ds.labels, numClasses: ds.numClasses, name: ds.name,
    };
  }
  if ('kind' in ds) {
    const s = openSource(ds);
    let maxLabel = -1;
    for (const l of s.labels) if (l > maxLabel) maxLabel = l;
    const numClasses = ds.kind === 'fashion-mnist' ? 10 : maxLabel + 1;
    return { source: ds, length: s.length, labels: s.labels, numClasses, name: s.name };
  }
  const mem = ds instanceof InMemoryDataset ? ds : materialize(ds);
  let images: SharedArrayBuffer;
  if (mem.images.buffer instanceof SharedArrayBuffer && mem.images.byteOffset === 0 && mem.images.byteLength === mem.images.buffer.byteLength) {
    images = mem.images.buffer;
  } else {
    images = new SharedArrayBuffer(mem.images.byteLength);
    new Uint8Array(images).set(mem.images);
  }
  return {
    source: { kind: 'shared', name: mem.name, images, labels: mem.labels, height: mem.height, width: mem.width, channels: mem.channels },
    length: mem.length, labels: mem.labels, numClasses: mem.numClasses, name: mem.name,
  };
}

function makeSampler(spec: SamplerSpec | Sampler | undefined, n: number, seed: number): Sampler {
  if (spec && typeof spec === 'object' && 'epochIndices' in spec) return spec;
  const s = spec ?? 'random';
  const kind = typeof s === 'string' ? s : s.kind;
  switch (kind) {
    case 'random': return new RandomSampler(n, seed);
    case 'sequential': return new SequentialSampler(n);
    case 'distributed': {
      const d = s as Extract<SamplerSpec, { kind: 'distributed' }>;
      return new DistributedSampler(n, { rank: d.rank, worldSize: d.worldSize, shuffle: d.shuffle, dropLast: d.dropLast, seed });
    }
    case 'ra': {
      const r = s as Extract<SamplerSpec, { kind: 'ra' }>;
      return new RASampler(n, { ...r, seed });
    }
    default: throw new Error(`DataLoader: unknown sampler '${kind}' (random, sequential, distributed, ra)`);
  }
}

interface Job { resolve: (b: RawBatch) => void; reject: (e: Error) => void }

class WorkerPool {
  private readonly workers: { w: Worker; jobs: Map<number, Job>; dead: Error | null }[] = [];
  private nextId = 0;
  private rr = 0;
  static readonly FILE = path.join(__dirname, 'loader_worker.js');

  constructor(count: number, init: WorkerInit) {
    for (let i = 0; i < count; i++) {
      const w = new Worker(WorkerPool.FILE, { workerData: init });
      const slot = { w, jobs: new Map<number, Job>(), dead: null as Error | null };
      w.on('message', (m: WorkerReply) => {
        const job = slot.jobs.get(m.id);
        if (!job) return;
        slot.jobs.delete(m.id);
        if (slot.jobs.size === 0) w.unref();
        if (m.type === 'batch') job.resolve(m.batch);
        else job.reject(workerError(m));
      });
      const fail = (err: Error): void => {
        slot.dead = err;
        for (const j of slot.jobs.values()) j.reject(err);
        slot.jobs.clear();
      };
      w.on('error', (e) => fail(new Error(`loader worker (${WorkerPool.FILE}) crashed: ${e.message}`, { cause: e })));
      w.on('exit', (code) => fail(new Error(`loader worker (${WorkerPool.FILE}) exited with code ${code}`)));
      w.unref();
      this.workers.push(slot);
    }
  }

  run(indices: Int32Array, seed: bigint | BigUint64Array): Promise<RawBatch> {
    // Least-loaded worker, ties round-robin.
    let best = -1;
    for (let k = 0; k < this.workers.length; k++) {
      const i = (this.rr + k) % this.workers.length;
      const s = this.workers[i];
      if (s.dead) continue;
      if (best < 0 || s.jobs.size < this.workers[best].jobs.size) best = i;
    }
    if (best < 0) return Promise.reject(this.workers[0]?.dead ?? new Error('loader: no workers'));
    this.rr = (best + 1) % this.workers.length;
    const slot = this.workers[best];
    const id = this.nextId++;
    return new Promise<RawBatch>((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject });
      slot.w.ref();
      const job: WorkerJob = { type: 'batch', id, indices, seed };
      slot.w.postMessage(job);
    });
  }

  async close(): Promise<void> {
    // A worker terminated while unref'd (or still booting) may not keep the event loop alive
    // until its exit is reported, so hold the loop open with a timer meanwhile.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await Promise.all(this.workers.map(async (s) => {
        s.dead ??= new Error('loader closed');
        s.w.ref();
        await s.w.terminate();
      }));
    } finally {
      clearInterval(keepAlive);
    }
  }
}

function workerError(m: Extract<WorkerReply, { type: 'error' }>): Error {
  const msg = `${m.message} (in loader worker ${WorkerPool.FILE})`;
  const e = m.name === 'DatasetError' ? new DatasetError(msg, m.file) : new Error(msg);
  if (m.stack) e.stack = `${e.name}: ${msg}\n    --- worker stack ---\n${m.stack}`;
  return e;
}

export class DataLoader implements AsyncIterable<Batch> {
  readonly batchSize: number;
  readonly sampler: Sampler;
  readonly batchSampler: BatchSampler;
  readonly numClasses: number;
  readonly datasetLength: number;
  readonly workers: number;
  readonly prefetch: number;
  readonly seed: number;
  readonly transforms: Compose;
  private readonly source: DatasetSource;
  private readonly opts: DataLoaderOptions;
  private readonly mixup: Mixup | null;
  private pool: WorkerPool | null = null;
  private local: SampleSource | null = null;
  private iterating = false;
  private closed = false;
  /** Position in the current epoch of the batches yielded so far (sampler may be ahead). */
  private consumed = 0;
  private readonly byClass: Int32Array[] | null = null;
  private readonly labels: Int32Array;

  constructor(dataset: AnyDataset, opts: DataLoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.opts = opts;
    const d = describe(dataset);
    this.source = d.source;
    this.numClasses = d.numClasses;
    this.datasetLength = d.length;
    this.batchSize = opts.batchSize;
    this.seed = opts.seed ?? 0;
    this.transforms = new Compose(opts.transforms ?? []);
    this.sampler = makeSampler(opts.sampler, d.length, this.seed);
    this.batchSampler = new BatchSampler(this.sampler, opts.batchSize, opts.dropLast ?? false);
    this.workers = opts.workers ?? Math.min(2, os.availableParallelism());
    this.prefetch = Math.max(1, opts.prefetch ?? 2);
    this.mixup = opts.mixup ? new Mixup({ ...opts.mixup, numClasses: opts.mixup.numClasses ?? d.numClasses }) : null;
    if (this.mixup && this.batchSize % 2 !== 0) throw new RangeError(`DataLoader: mixup needs an even batch size, got ${this.batchSize}`);
    this.labels = d.labels;
    if (opts.classPairs) {
      if (this.mixup) throw new Error('DataLoader: classPairs (CS-KD) and mixup cannot be combined: mixing would blend a sample with the wrong partner');
      const by: number[][] = [];
      d.labels.forEach((c, i) => (by[c] ??= []).push(i));
      this.byClass = by.map((a) => Int32Array.from(a ?? []));
    }
    if (opts.views !== undefined) {
      if (!Number.isInteger(opts.views) || opts.views < 1) throw new RangeError(`DataLoader: views must be a positive integer, got ${opts.views}`);
      // mixup/cutmix mixes a sample with whichever sample shares its batch, so its view would have
      // to name that partner and lambda; not done yet, so the combination is refused
      if (this.mixup) throw new Error('DataLoader: views (teacher-output cache) and mixup/cutmix cannot be combined yet: a mixed image depends on its batch partner');
      if (opts.classPairs) throw new Error('DataLoader: views (teacher-output cache) and classPairs cannot be combined');
    }
    this.views = opts.views ?? 0;
    this.viewSetSeed = opts.viewSeed ?? this.seed;
    this.consumed = this.sampler.position;
  }

  /** Views per sample (0: views off, every epoch draws fresh augmentations). */
  readonly views: number;
  /** Seed of the per-sample view sets (opts.viewSeed, else seed). */
  readonly viewSetSeed: number;

  /** Which view each of `indices` shows in `epoch`. */
  viewsOf(indices: ArrayLike<number>, epoch: number): Int32Array {
    const out = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) out[k] = pickView(this.seed, epoch, indices[k], this.views);
    return out;
  }

  /** The batch of samples `indices` showing views `view` (the cache builder walks every view this way). */
  async viewBatch(indices: Int32Array, view: Int32Array): Promise<Batch> {
    if (!this.views) throw new Error('DataLoader.viewBatch: the loader has no views (construct it with views: V)');
    if (view.length !== indices.length) throw new Error(`DataLoader.viewBatch: ${view.length} views for ${indices.length} samples`);
    for (const v of view) if (!Number.isInteger(v) || v < 0 || v >= this.views) throw new RangeError(`DataLoader.viewBatch: view ${v} outside [0, ${this.views})`);
    const raw = await this.dispatch(indices, this.viewSeeds(indices, view));
    return this.finish(raw, indices, -1, -1, view);
  }

  private viewSeeds(indices: ArrayLike<number>, view: Int32Array): BigUint64Array {
    const seeds = new BigUint64Array(indices.length);
    for (let k = 0; k < indices.length; k++) seeds[k] = viewSeed(this.viewSetSeed, indices[k], view[k]);
    return seeds;
  }

  /** Batches per full epoch. */
  get length(): number {
    return this.batchSampler.length;
  }
  get epoch(): number {
    return this.sampler.epoch;
  }

  setEpoch(epoch: number): void {
    if (this.iterating) throw new Error('DataLoader.setEpoch: not while iterating');
    this.sampler.setEpoch(epoch);
    this.consumed = 0;
  }

  state(): LoaderState {
    return { sampler: { ...this.sampler.state(), position: this.consumed } };
  }

  restore(s: LoaderState): void {
    if (this.iterating) throw new Error('DataLoader.restore: not while iterating');
    if (!s || typeof s !== 'object' || !s.sampler) throw new TypeError(`DataLoader.restore: expected {sampler: SamplerState}, got ${JSON.stringify(s)}`);
    this.sampler.restore(s.sampler);
    this.consumed = this.sampler.position;
  }

  /** The augmentation seed of the batch starting at `position` of `epoch` (key 0: per-sample
   *  transforms, 1: random erasing, 2: mixup). */
  batchSeed(epoch: number, position: number, key = 0): bigint {
    return deriveSeed(this.seed, this.sampler.rank, epoch, position, key);
  }

  /** base ++ one same-class partner per base sample (key 3 of the batch seed). */
  private withClassPairs(base: Int32Array, epoch: number, position: number): Int32Array {
    const rng = new Rng(this.batchSeed(epoch, position, 3));
    const out = new Int32Array(base.length * 2);
    out.set(base, 0);
    base.forEach((i, k) => { const same = this.byClass![this.labels[i]]; out[base.length + k] = same[rng.int(same.length)]; });
    return out;
  }

  private dispatch(indices: Int32Array, seed: bigint | BigUint64Array): Promise<RawBatch> {
    if (this.workers > 0) {
      this.pool ??= new WorkerPool(this.workers, { civetLoader: true, source: this.source, transforms: [...this.transforms.specs] });
      return this.pool.run(indices, seed);
    }
    this.local ??= openSource(this.source);
    return buildBatch(this.local, this.transforms, indices, seed);
  }

  private finish(raw: RawBatch, indices: Int32Array, epoch: number, position: number, view?: Int32Array): Batch {
    const { imagesToTensor, labelsToTensor } = require('./batch') as typeof import('./batch');
    const o = this.opts;
    let x = imagesToTensor(raw.images, raw.n, raw.h, raw.w, raw.c, { norm: o.norm, outChannels: o.outChannels, size: o.outSize });
    const y = labelsToTensor(raw.labels);
    if (view) {
      // a view's erasing boxes come from its own seed (key 1), like its per-sample transforms
      let erase: [number, number, number, number][][] | undefined;
      if (o.randomErasing) {
        const r = randomErasingRecorded(x, (k) => new Rng(deriveSeed(viewSeed(this.viewSetSeed, indices[k], view[k]), 1)), o.randomErasing);
        x.dispose();
        x = r.x;
        erase = r.boxes;
      }
      const params = raw.params!;
      const keys = Array.from(indices, (index, k) => viewKey({ index, params: params[k], erase: erase?.[k] }));
      return { x, y, indices, labels: raw.labels, epoch, position, views: { view, keys, params, erase } };
    }
    if (o.randomErasing) {
      const x2 = randomErasing(x, new Rng(this.batchSeed(epoch, position, 1)), o.randomErasing);
      x.dispose();
      x = x2;
    }
    let soft: Tensor | undefined;
    if (this.mixup) {
      const m = this.mixup.apply(x, raw.labels, new Rng(this.batchSeed(epoch, position, 2)));
      x.dispose();
      x = m.x;
      soft = m.soft;
    }
    return { x, y, soft, indices, labels: raw.labels, epoch, position };
  }

  /** Yields the rest of the current epoch, then advances the sampler to the next epoch. Breaking
   *  out early leaves the position after the last yielded batch (prefetched ones are dropped). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    if (this.closed) throw new Error('DataLoader: closed');
    if (this.iterating) throw new Error('DataLoader: already being iterated (one iterator at a time)');
    this.iterating = true;
    const epoch = this.sampler.epoch;
    const queue: { p: Promise<RawBatch>; indices: Int32Array; position: number; count: number; view?: Int32Array }[] = [];
    const fill = (): void => {
      while (queue.length < this.prefetch) {
        const position = this.sampler.position;
        const base = this.batchSampler.nextBatch();
        if (!base) break;
        const indices = this.byClass ? this.withClassPairs(base, epoch, position) : base;
        const view = this.views ? this.viewsOf(indices, epoch) : undefined;
        const p = this.dispatch(indices, view ? this.viewSeeds(indices, view) : this.batchSeed(epoch, position));
        p.catch(() => undefined); // surfaced when awaited; avoid unhandled-rejection noise for dropped ones
        queue.push({ p, indices, position, count: base.length, view });
      }
    };
    let completed = false;
    try {
      fill();
      while (queue.length > 0) {
        const item = queue.shift()!;
        const raw = await item.p;
        fill();
        const batch = this.finish(raw, item.indices, epoch, item.position, item.view);
        this.consumed = item.position + item.count;
        yield batch;
      }
      completed = true;
    } finally {
      this.iterating = false;
      if (completed) {
        this.sampler.nextEpoch();
        this.consumed = 0;
      } else {
        // Rewind past the prefetched-but-unyielded batches.
        this.sampler.restore({ ...this.sampler.state(), epoch, position: this.consumed });
      }
    }
  }

  /** Stop the worker threads. The loader cannot be iterated afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const p = this.pool;
    this.pool = null;
    if (p) await p.close();
  }
}
