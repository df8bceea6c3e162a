// torchvision-style ImageFolder: root/<class>/**/<image>, classes sorted by code point (as
// Python's sorted() does), decoded with sharp to 8-bit RGB. Scanning is synchronous (cheap);
// decoding is async because sharp is. Either decode on demand with get(i), or decode everything
// once with load() into an InMemoryDataset (the usual path for small distillation sets).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type sharpType from 'sharp';

// sharp (a native image library) loads on first decode, so commands that never read image
// folders start faster and run where it is not installed.
let sharpMod: typeof sharpType | undefined;
function sharp(...args: Parameters<typeof sharpType>): ReturnType<typeof sharpType> {
  sharpMod ??= require('sharp') as typeof sharpType;
  return sharpMod(...args);
}
import { InMemoryDataset, checkIndex, type Sample } from './dataset';
import { DatasetError } from './errors';

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp'];

export interface ImageFolderOptions {
  /** Resize every image on load: a number for square, or [height, width]. Needed for load()
   *  unless all images already share one size. */
  size?: number | [number, number];
  /** How to reach `size`: 'fill' stretches (torchvision Resize((h, w))), 'cover' scales and
   *  centre-crops, 'contain' scales and pads with black. Default 'fill'. */
  fit?: 'fill' | 'cover' | 'contain';
  /** Lower-case extensions with the dot; default IMAGE_EXTENSIONS. Matching ignores case. */
  extensions?: readonly string[];
  /** load(): warn about and drop undecodable files instead of rejecting. get() always throws,
   *  since it has no sample to return. */
  skipCorrupt?: boolean;
  /** Where skipCorrupt warnings go; default console.warn. */
  onWarning?: (message: string) => void;
  /** Parallel decodes in load(); default min(8, CPU count). sharp adds its own threads. */
  concurrency?: number;
  name?: string;
  /** The class names this folder must have, by name (e.g. the training folder's classNames for
   *  its validation folder): labels then mean the same classes in both. A missing or extra class
   *  is an error naming it; without this, a validation folder lacking one class would shift the
   *  labels of every class after it. */
  classes?: readonly string[];
}

export interface DecodedSample extends Sample {
  file: string;
  height: number;
  width: number;
  channels: 3;
}

export interface CorruptFile {
  file: string;
  reason: string;
}

export class ImageFolder {
  readonly root: string;
  readonly name: string;
  readonly classNames: readonly string[];
  readonly numClasses: number;
  /** Absolute paths, grouped by class, sorted within each class. */
  readonly files: readonly string[];
  readonly labels: Int32Array;
  readonly length: number;
  readonly channels = 3;
  /** Fixed output size when `size` was given, else null (images keep their own size). */
  readonly height: number | null;
  readonly width: number | null;
  /** Files that failed to decode and were skipped by load() with skipCorrupt. */
  readonly corrupt: CorruptFile[] = [];
  private readonly opts: ImageFolderOptions;

  constructor(root: string, opts: ImageFolderOptions = {}) {
    this.opts = opts;
    this.root = path.resolve(root);
    this.name = opts.name ?? `imagefolder:${path.basename(this.root)}`;
    [this.height, this.width] = parseSize(opts.size);
    const exts = (opts.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
    const { classNames, files, labels } = scan(this.root, exts);
    if (opts.classes) checkClasses(this.root, classNames, opts.classes);
    this.classNames = classNames;
    this.numClasses = classNames.length;
    this.files = files;
    this.labels = labels;
    this.length = files.length;
  }

  get corruptCount(): number {
    return this.corrupt.length;
  }

  /** Decode sample i. Rejects with a DatasetError naming the file if it cannot be decoded. */
  async get(i: number): Promise<DecodedSample> {
    checkIndex(this, i);
    const file = this.files[i];
    const { pixels, height, width } = await decodeImage(file, this.opts);
    return { pixels, label: this.labels[i], file, height, width, channels: 3 };
  }

  /** Decode every image into one NHWC buffer. With skipCorrupt, bad files are warned about,
   *  recorded in `corrupt`, and left out (so the result may be shorter than `length`). */
  async load(): Promise<InMemoryDataset> {
    const n = this.length;
    const decoded: (DecodedSample | null)[] = new Array(n).fill(null);
    this.corrupt.length = 0;
    const failures: CorruptFile[] = [];
    let next = 0;
    let aborted = false; // stop the other workers once one has rejected
    const worker = async (): Promise<void> => {
      while (next < n && !aborted) {
        const i = next++;
        try {
          decoded[i] = await this.get(i);
        } catch (err) {
          if (!this.opts.skipCorrupt) {
            aborted = true;
            throw err;
          }
          failures.push({ file: this.files[i], reason: (err as Error).message });
        }
      }
    };
    const workers = Math.max(1, Math.min(this.opts.concurrency ?? Math.min(8, os.availableParallelism()), n));
    await Promise.all(Array.from({ length: workers }, worker));

    // Report in file order regardless of which worker finished first.
    failures.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const warn = this.opts.onWarning ?? ((m: string) => console.warn(m));
    for (const f of failures) {
      this.corrupt.push(f);
      warn(`${this.name}: skipping corrupt image ${f.reason}`);
    }
    const ok = decoded.filter((d): d is DecodedSample => d !== null);
    if (ok.length === 0) throw new DatasetError(`${this.name}: none of the ${n} images could be decoded`, this.root);

    const { height, width } = ok[0];
    const size = height * width * 3;
    const images = new Uint8Array(ok.length * size);
    const labels = new Int32Array(ok.length);
    ok.forEach((d, k) => {
      if (d.height !== height || d.width !== width) {
        throw new DatasetError(
          `${this.name}: image is ${d.height}x${d.width} but ${ok[0].file} is ${height}x${width}; pass the size option to resize on load`,
          d.file,
        );
      }
      images.set(d.pixels, k * size);
      labels[k] = d.label;
    });
    return new InMemoryDataset({ name: this.name, channels: 3, height, width, classNames: this.classNames, images, labels });
  }
}

function checkClasses(root: string, got: readonly string[], want: readonly string[]): void {
  const missing = want.filter((c) => !got.includes(c)), extra = got.filter((c) => !want.includes(c));
  if (!missing.length && !extra.length) return;
  const parts = [missing.length ? `no folder for class${missing.length > 1 ? 'es' : ''} ${missing.join(', ')}` : '', extra.length ? `class folder${extra.length > 1 ? 's' : ''} ${extra.join(', ')} not among the expected classes` : ''].filter(Boolean);
  throw new DatasetError(`ImageFolder classes differ from the expected ${want.length} (${want.join(', ')}): ${parts.join('; ')}`, root);
}

function parseSize(size: ImageFolderOptions['size']): [number | null, number | null] {
  if (size === undefined) return [null, null];
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new RangeError(`ImageFolder: size must be a positive integer or [height, width], got ${JSON.stringify(size)}`);
  }
  return [h, w];
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory(); // stat, not lstat: follow symlinks like os.walk(followlinks=True)
  } catch {
    return false;
  }
}

/** Image files under dir, recursively, sorted; hidden entries (".*") skipped. */
function listImages(dir: string, exts: readonly string[], out: string[]): void {
  const entries = fs.readdirSync(dir).filter((e) => !e.startsWith('.')).sort(byCodePoint);
  for (const e of entries) {
    const p = path.join(dir, e);
    if (isDir(p)) listImages(p, exts, out);
    else if (exts.includes(path.extname(e).toLowerCase())) out.push(p);
  }
}

function scan(root: string, exts: readonly string[]): { classNames: string[]; files: string[]; labels: Int32Array } {
  if (!fs.existsSync(root)) throw new DatasetError(`ImageFolder root does not exist`, root);
  if (!isDir(root)) throw new DatasetError(`ImageFolder root is not a directory`, root);
  // Hidden directories (.git, .ipynb_checkpoints) are not classes; torchvision would count them.
  const classNames = fs
    .readdirSync(root)
    .filter((e) => !e.startsWith('.') && isDir(path.join(root, e)))
    .sort(byCodePoint);
  if (classNames.length === 0) {
    throw new DatasetError(`ImageFolder root has no class subdirectories (expected root/<class>/<image>)`, root);
  }
  const files: string[] = [];
  const labels: number[] = [];
  const empty: string[] = [];
  classNames.forEach((c, label) => {
    const before = files.length;
    listImages(path.join(root, c), exts, files);
    if (files.length === before) empty.push(c);
    for (let k = before; k < files.length; k++) labels.push(label);
  });
  if (empty.length > 0) {
    throw new DatasetError(
      `ImageFolder found no images for class${empty.length > 1 ? 'es' : ''} ${empty.join(', ')}; supported extensions are ${exts.join(', ')}`,
      root,
    );
  }
  return { classNames, files, labels: Int32Array.from(labels) };
}

/** Decode one file to 8-bit RGB HWC (alpha dropped, grey expanded), optionally resized. */
export async function decodeImage(
  file: string,
  opts: Pick<ImageFolderOptions, 'size' | 'fit'> = {},
): Promise<{ pixels: Uint8Array; height: number; width: number }> {
  const [h, w] = parseSize(opts.size);
  try {
    // failOn 'truncated' rejects cut-off files, which libvips would otherwise pad with grey.
    let img = sharp(file, { failOn: 'truncated' });
    if (h !== null && w !== null) {
      img = img.resize({ height: h, width: w, fit: opts.fit ?? 'fill', background: { r: 0, g: 0, b: 0, alpha: 1 } });
    }
    const { data, info } = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoded to ${info.channels} channels (${data.length} bytes), expected 3`);
    }
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width };
  } catch (err) {
    throw new DatasetError(`cannot decode image: ${(err as Error).message}`, file, { cause: err });
  }
}
