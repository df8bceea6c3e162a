// `civet bench` workloads for the data loader: images/s through decode + augmentation + tensor
// conversion. Worker count from $CIVET_LOADER_WORKERS (default min(2, cores)); at least 40
// timed batches after 3 warm-up batches (so --steps below 40 is raised).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { workload, type BenchArgs, type BenchResult } from './workloads';
import { Rng } from '../src/util/rng';
import { loadFashionMnist } from '../src/data/fashion_mnist';
import { ImageFolder } from '../src/data/image_folder';
import { DataLoader, type DataLoaderOptions } from '../src/data/loader';
import { IMAGENET_NORM } from '../src/data/transforms';

function workerCount(): number {
  const env = Number(process.env.CIVET_LOADER_WORKERS ?? '');
  return Number.isInteger(env) && env >= 0 && process.env.CIVET_LOADER_WORKERS ? env : Math.min(2, os.availableParallelism());
}

async function measure(loader: DataLoader, steps: number): Promise<BenchResult> {
  const warmup = 3, timed = Math.max(40, steps);
  let seen = 0, images = 0, t0 = 0n;
  try {
    while (seen < warmup + timed) {
      for await (const b of loader) {
        if (seen === warmup) t0 = process.hrtime.bigint();
        if (seen >= warmup) images += b.indices.length;
        b.x.dispose(); b.y.dispose(); b.soft?.dispose();
        if (++seen >= warmup + timed) break;
      }
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return { images_per_s: Math.round(images / s), batches: timed, workers: loader.workers, seconds: Number(s.toFixed(3)) };
  } finally {
    await loader.close();
  }
}

/** A folder of `count` random-ish 64x64 JPEGs in `classes` class directories (made once). */
export async function makeJpegFolder(root: string, count = 2000, classes = 10, side = 64): Promise<string> {
  const marker = path.join(root, '.complete');
  if (fs.existsSync(marker)) return root;
  const rng = new Rng(1234);
  for (let c = 0; c < classes; c++) fs.mkdirSync(path.join(root, `class${c}`), { recursive: true });
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    const px = new Uint8Array(side * side * 3);
    // Smooth gradients plus noise: JPEG-compressible but not trivial to decode.
    const a = rng.int(256), b = rng.int(256);
    for (let y = 0, o = 0; y < side; y++) for (let x = 0; x < side; x++) {
      px[o++] = (a + x * 3) & 255; px[o++] = (b + y * 3) & 255; px[o++] = (c * 25 + rng.int(32)) & 255;
    }
    jobs.push(sharp(px, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 90 }).toFile(path.join(root, `class${c}`, `img${String(i).padStart(5, '0')}.jpg`)));
    if (jobs.length >= 64) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
  fs.writeFileSync(marker, '');
  return root;
}

export const loaderFmnist = workload('loader-fmnist', 'DataLoader images/s: Fashion-MNIST train, grey->RGB, resize 32, crop pad 4, flip, normalize', async (a: BenchArgs) => {
  const ds = loadFashionMnist({ split: 'train' });
  const opts: DataLoaderOptions = {
    batchSize: a.batch,
    workers: workerCount(),
    seed: 0,
    transforms: [{ name: 'grayscaleToRgb' }, { name: 'resize', size: 32 }, { name: 'randomCrop', size: 32, padding: 4 }, { name: 'horizontalFlip' }],
    norm: { mean: [0.2860, 0.2860, 0.2860], std: [0.3530, 0.3530, 0.3530] },
  };
  return measure(new DataLoader(ds, opts), a.steps);
});
export const loaderImageFolder = workload('loader-imagefolder', 'DataLoader images/s: 2000 64x64 JPEGs decoded with sharp in workers, randomResizedCrop 32, flip, normalize', async (a: BenchArgs) => {
  const root = await makeJpegFolder(path.join(os.tmpdir(), 'civet-bench-jpegs-2000'));
  const folder = new ImageFolder(root, { size: 64 });
  const opts: DataLoaderOptions = {
    batchSize: a.batch,
    workers: workerCount(),
    seed: 0,
    transforms: [{ name: 'randomResizedCrop', size: 32 }, { name: 'horizontalFlip' }],
    norm: IMAGENET_NORM,
  };
  return measure(new DataLoader(folder, opts), a.steps);
});
