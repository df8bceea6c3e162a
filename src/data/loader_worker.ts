// The DataLoader's worker thread, and the batch-building code it shares with the in-process
// path (workers: 0). It receives a dataset *description* and a transform pipeline once, then
// jobs of {indices, seed}; it returns one uint8 NHWC batch per job through a transferred
// ArrayBuffer. It never imports the tensor engine (libtorch stays on the main thread).
//
// Dataset descriptions:
//  * 'shared': an in-memory dataset whose pixels the loader copied once into a
//    SharedArrayBuffer; every worker reads the same memory, nothing is copied per batch.
//  * 'fashion-mnist': each worker loads (and gunzips) the IDX files itself.
//  * 'image-folder': a list of files + labels; each worker decodes its samples with sharp.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../util/rng';
import { Compose, type Img, type TransformSpec, type ViewParams } from './transforms';

export type DatasetSource =
  | { kind: 'shared'; name: string; images: SharedArrayBuffer | Uint8Array; labels: Int32Array; height: number; width: number; channels: number }
  | { kind: 'fashion-mnist'; split?: 'train' | 'test'; root?: string }
  | { kind: 'image-folder'; name: string; files: readonly string[]; labels: Int32Array; size?: number | [number, number]; fit?: 'fill' | 'cover' | 'contain' };

export interface SampleSource {
  name: string;
  length: number;
  labels: Int32Array;
  get(i: number): Img | Promise<Img>;
}

export function openSource(src: DatasetSource): SampleSource {
  switch (src.kind) {
    case 'shared': {
      const images = src.images instanceof Uint8Array ? src.images : new Uint8Array(src.images);
      const size = src.height * src.width * src.channels;
      if (images.length !== size * src.labels.length) {
        throw new Error(`loader: shared source ${src.name} has ${images.length} bytes, expected ${src.labels.length} x ${src.height}x${src.width}x${src.channels} = ${size * src.labels.length}`);
      }
      return {
        name: src.name,
        length: src.labels.length,
        labels: src.labels,
        get: (i) => ({ data: images.subarray(i * size, (i + 1) * size), h: src.height, w: src.width, c: src.channels }),
      };
    }
    case 'fashion-mnist': {
      const { loadFashionMnist } = require('./fashion_mnist') as typeof import('./fashion_mnist');
      const ds = loadFashionMnist({ split: src.split ?? 'train', root: src.root });
      const size = ds.sampleSize;
      return {
        name: ds.name,
        length: ds.length,
        labels: ds.labels,
        get: (i) => ({ data: ds.images.subarray(i * size, (i + 1) * size), h: ds.height, w: ds.width, c: ds.channels }),
      };
    }
    case 'image-folder': {
      const { decodeImage } = require('./image_folder') as typeof import('./image_folder');
      return {
        name: src.name,
        length: src.files.length,
        labels: src.labels,
        get: async (i) => {
          const { pixels, height, width } = await decodeImage(src.files[i], { size: src.size, fit: src.fit });
          return { data: pixels, h: height, w: width, c: 3 };
        },
      };
    }
    default:
      throw new Error(`loader: unknown dataset source kind '${(src as { kind: string }).kind}'`);
  }
}

export interface RawBatch {
  images: Uint8Array;
  labels: Int32Array;
  n: number;
  h: number;
  w: number;
  c: number;
  /** each sample's augmentation parameters, when built with per-sample seeds */
  params?: ViewParams[];
}

/** Decode + transform the samples `indices` with one Rng seeded by `seed`, drawn in index order,
 *  so the batch depends only on (indices, seed), not on which thread builds it. With one seed per
 *  sample (views, data/views.ts) each sample draws from its own Rng and the batch also reports
 *  each sample's augmentation parameters. */
export async function buildBatch(src: SampleSource, pipe: Compose, indices: ArrayLike<number>, seed: bigint | BigUint64Array): Promise<RawBatch> {
  const perSample = typeof seed !== 'bigint';
  const rng = new Rng(perSample ? 0 : seed);
  const params: ViewParams[] | undefined = perSample ? [] : undefined;
  const n = indices.length;
  const labels = new Int32Array(n);
  let images: Uint8Array | null = null;
  let shape: [number, number, number] = [0, 0, 0];
  // Decode concurrently (matters for sharp), transform in order (the Rng stream is sequential).
  const decoded = await Promise.all(Array.from({ length: n }, (_, k) => src.get(indices[k])));
  for (let k = 0; k < n; k++) {
    let out: Img;
    if (perSample) {
      const r = pipe.applyRecorded(decoded[k], new Rng((seed as BigUint64Array)[k]));
      out = r.img;
      params!.push(r.params);
    } else out = pipe.apply(decoded[k], rng);
    if (!images) {
      shape = [out.h, out.w, out.c];
      images = new Uint8Array(n * out.data.length);
    } else if (out.h !== shape[0] || out.w !== shape[1] || out.c !== shape[2]) {
      throw new Error(`loader: sample ${indices[k]} of ${src.name} came out ${out.h}x${out.w}x${out.c}, but the batch is ${shape.join('x')}; add a resize/crop to the transforms`);
    }
    images.set(out.data, k * out.data.length);
    labels[k] = src.labels[indices[k]];
  }
  return { images: images ?? new Uint8Array(0), labels, n, h: shape[0], w: shape[1], c: shape[2], params };
}

export interface WorkerInit {
  civetLoader: true;
  source: DatasetSource;
  transforms: TransformSpec[];
}
export type WorkerJob = { type: 'batch'; id: number; indices: Int32Array; seed: bigint | BigUint64Array };
export type WorkerReply =
  | { type: 'batch'; id: number; batch: RawBatch }
  | { type: 'error'; id: number; message: string; name: string; stack?: string; file?: string };

function serveAsWorker(init: WorkerInit): void {
  const port = parentPort!;
  let state: { src: SampleSource; pipe: Compose } | null = null;
  port.on('message', (job: WorkerJob) => {
    void (async () => {
      try {
        state ??= { src: openSource(init.source), pipe: new Compose(init.transforms) };
        const batch = await buildBatch(state.src, state.pipe, job.indices, job.seed);
        const reply: WorkerReply = { type: 'batch', id: job.id, batch };
        port.postMessage(reply, [batch.images.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer]);
      } catch (err) {
        const e = err as Error & { file?: string };
        const reply: WorkerReply = { type: 'error', id: job.id, message: e?.message ?? String(err), name: e?.name ?? 'Error', stack: e?.stack, file: e?.file };
        port.postMessage(reply);
      }
    })();
  });
}

if (!isMainThread && parentPort && (workerData as WorkerInit | undefined)?.civetLoader) serveAsWorker(workerData as WorkerInit);
