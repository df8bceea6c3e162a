import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { loadFashionMnist, clearFashionMnistCache, FASHION_MNIST_DEFAULT_ROOT, FASHION_MNIST_CLASSES } from './fashion_mnist';
import { classCounts } from './dataset';
import { DatasetError } from './errors';

const haveReal = fs.existsSync(path.join(FASHION_MNIST_DEFAULT_ROOT, 'train-images-idx3-ubyte.gz'));

test('real Fashion-MNIST: counts, shapes, first label and first-image checksum', { skip: !haveReal && 'dataset-fashion-mnist not installed' }, () => {
  const train = loadFashionMnist({ split: 'train', root: FASHION_MNIST_DEFAULT_ROOT });
  const testSet = loadFashionMnist({ split: 'test', root: FASHION_MNIST_DEFAULT_ROOT });
  assert.equal(train.length, 60000);
  assert.equal(testSet.length, 10000);
  assert.deepEqual([train.channels, train.height, train.width, train.numClasses], [1, 28, 28, 10]);
  assert.equal(train.images.length, 60000 * 784);
  assert.deepEqual(train.classNames, FASHION_MNIST_CLASSES);
  // Reference values derived independently with Python:
  //   python3 -c "import gzip,hashlib; b=gzip.open('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz').read();
  //               l=gzip.open('/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz').read();
  //               print(l[8], sum(b[16:800]), hashlib.sha256(b[16:800]).hexdigest())"
  //   -> 9 76247 5bd44e331a6d6998daf675700cd0c13dcd7af8ab954b7585124124da61459e7b
  //   (test split: first labels 9 2 1 1 6, first image pixel sum 33456)
  const first = train.get(0);
  assert.equal(first.label, 9);
  assert.equal(train.classNames[first.label], 'Ankle boot');
  assert.equal(first.pixels.length, 784);
  assert.equal(first.pixels.reduce((a, b) => a + b, 0), 76247);
  assert.equal(crypto.createHash('sha256').update(first.pixels).digest('hex'), '5bd44e331a6d6998daf675700cd0c13dcd7af8ab954b7585124124da61459e7b');
  assert.deepEqual(Array.from(testSet.labels.subarray(0, 5)), [9, 2, 1, 1, 6]);
  assert.equal(testSet.get(0).pixels.reduce((a, b) => a + b, 0), 33456);
  assert.deepEqual(classCounts(train), new Array(10).fill(6000));
  // Second load is served from the per-process cache (same object, no re-decode).
  assert.equal(loadFashionMnist({ split: 'train', root: FASHION_MNIST_DEFAULT_ROOT }), train);
});

// ---- synthetic IDX files --------------------------------------------------------------------

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tmp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

function fixture(opts: { n?: number; imgMagic?: number; lblMagic?: number; imgDims?: number[]; lblDims?: number[]; imgCut?: number; labels?: number[]; gzip?: boolean } = {}): string {
  const n = opts.n ?? 3;
  const dir = tmp('civet-fmnist-');
  const pixels = new Uint8Array(n * 784).map((_, i) => i % 251);
  let img = idx(opts.imgMagic ?? 2051, opts.imgDims ?? [n, 28, 28], pixels);
  if (opts.imgCut) img = img.subarray(0, img.length - opts.imgCut);
  const lbl = idx(opts.lblMagic ?? 2049, opts.lblDims ?? [n], Uint8Array.from(opts.labels ?? Array.from({ length: n }, (_, i) => i % 10)));
  const gz = opts.gzip ?? true;
  const write = (name: string, buf: Buffer) => fs.writeFileSync(path.join(dir, gz ? `${name}.gz` : name), gz ? zlib.gzipSync(buf) : buf);
  write('train-images-idx3-ubyte', img);
  write('train-labels-idx1-ubyte', lbl);
  return dir;
}

function loadErr(root: string, expectCount = 3): DatasetError {
  clearFashionMnistCache();
  try {
    loadFashionMnist({ root, expectCount });
  } catch (err) {
    assert.ok(err instanceof DatasetError, `expected DatasetError, got ${err}`);
    return err;
  }
  assert.fail('expected loadFashionMnist to throw');
}

test('synthetic IDX: valid gzipped and plain files load', () => {
  for (const gzip of [true, false]) {
    clearFashionMnistCache();
    const ds = loadFashionMnist({ root: fixture({ gzip }), expectCount: 3 });
    assert.equal(ds.length, 3);
    assert.deepEqual(Array.from(ds.labels), [0, 1, 2]);
    assert.equal(ds.get(1).pixels[0], 784 % 251);
  }
});

test('CIVET_FASHION_MNIST env var picks the root when no option is given', () => {
  const dir = fixture();
  const old = process.env.CIVET_FASHION_MNIST;
  process.env.CIVET_FASHION_MNIST = dir;
  try {
    clearFashionMnistCache();
    assert.equal(loadFashionMnist({ expectCount: 3 }).length, 3);
  } finally {
    if (old === undefined) delete process.env.CIVET_FASHION_MNIST;
    else process.env.CIVET_FASHION_MNIST = old;
  }
});

test('missing dataset says where it looked and how to install it', () => {
  const dir = tmp('civet-fmnist-empty-');
  const err = loadErr(dir);
  assert.match(err.message, /not found/);
  assert.ok(err.message.includes(path.join(dir, 'train-images-idx3-ubyte.gz')));
  assert.match(err.message, /apt-get install dataset-fashion-mnist/);
  assert.match(err.message, /CIVET_FASHION_MNIST/);
});

test('wrong magic names the file and both numbers', () => {
  const dir = fixture({ imgMagic: 2049 });
  const err = loadErr(dir);
  assert.match(err.message, /wrong magic number 2049.*expected 2051/);
  assert.equal(err.file, path.join(dir, 'train-images-idx3-ubyte.gz'));
  const err2 = loadErr(fixture({ lblMagic: 2051 }));
  assert.match(err2.message, /train-labels-idx1-ubyte\.gz: wrong magic number 2051/);
});

test('truncated image data, truncated gzip, and trailing bytes are reported', () => {
  assert.match(loadErr(fixture({ imgCut: 100 })).message, /train-images-idx3-ubyte\.gz: truncated: .*implies/);
  const dir = fixture();
  const f = path.join(dir, 'train-images-idx3-ubyte.gz');
  const gz = fs.readFileSync(f);
  fs.writeFileSync(f, gz.subarray(0, gz.length >> 1));
  assert.match(loadErr(dir).message, /train-images-idx3-ubyte\.gz: corrupt or truncated gzip/);
  const dir2 = fixture({ gzip: false });
  fs.appendFileSync(path.join(dir2, 'train-labels-idx1-ubyte'), Buffer.from([1, 2]));
  assert.match(loadErr(dir2).message, /train-labels-idx1-ubyte: 2 unexpected trailing bytes/);
  const dir3 = fixture({ gzip: false });
  fs.writeFileSync(path.join(dir3, 'train-images-idx3-ubyte'), Buffer.from([0, 0, 8, 3, 0, 0]));
  assert.match(loadErr(dir3).message, /truncated IDX header/);
});

test('count and size mismatches are reported', () => {
  assert.match(loadErr(fixture({ n: 3 }), 4).message, /train-images-idx3-ubyte\.gz: item count mismatch: header says 3, expected 4/);
  assert.match(loadErr(fixture({ imgDims: [3, 28, 27] })).message, /dimension 2 mismatch: header says 27, expected 28/);
  assert.match(loadErr(fixture({ lblDims: [2], labels: [0, 1] })).message, /train-labels-idx1-ubyte\.gz: item count mismatch: header says 2, expected 3/);
});

test('out-of-range label is reported with its position', () => {
  assert.match(loadErr(fixture({ labels: [0, 10, 1] })).message, /train-labels-idx1-ubyte\.gz: label 10 of item 1 is outside 0\.\.9/);
});
