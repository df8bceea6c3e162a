import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCifar10, loadCifar100, clearCifarCache } from './cifar';
import { DatasetError } from './errors';

/** A record whose pixel bytes encode (record seed, channel, position) so the CHW->HWC
 *  transpose can be checked exactly. */
function record(labels: number[], seed: number): Buffer {
  const px = Buffer.alloc(3072);
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) px[c * 1024 + p] = (seed * 31 + c * 85 + p) & 255;
  return Buffer.concat([Buffer.from(labels), px]);
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmp(name: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `civet-${name}-`));
  dirs.push(d);
  return d;
}

const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** root/cifar-10-batches-bin with two records per train batch and three test records. */
function cifar10Fixture(): { root: string; dir: string } {
  const root = tmp('cifar10');
  const dir = path.join(root, 'cifar-10-batches-bin');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'batches.meta.txt'), CIFAR10_NAMES.join('\n') + '\n\n');
  for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), Buffer.concat([record([b], b * 2), record([9 - b], b * 2 + 1)]));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), Buffer.concat([0, 1, 2].map((i) => record([i], 100 + i))));
  return { root, dir };
}

function expectErr(fn: () => unknown, re: RegExp): DatasetError {
  clearCifarCache();
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DatasetError, `expected DatasetError, got ${err}`);
    assert.match(err.message, re);
    return err;
  }
  assert.fail(`expected an error matching ${re}`);
}

test('CIFAR-10: batches concatenate in order, labels and HWC pixels are exact', () => {
  const { root, dir } = cifar10Fixture();
  clearCifarCache();
  const train = loadCifar10({ root });
  assert.equal(train.length, 10);
  assert.deepEqual(Array.from(train.labels), [1, 8, 2, 7, 3, 6, 4, 5, 5, 4]);
  assert.deepEqual(train.classNames, CIFAR10_NAMES);
  assert.deepEqual([train.channels, train.height, train.width], [3, 32, 32]);
  // Sample 3 is batch 2's second record, written with seed 2*2+1 = 5. Pixel (y=1, x=2) -> planar position 34.
  const px = train.get(3).pixels;
  const p = 1 * 32 + 2;
  assert.deepEqual([px[3 * p], px[3 * p + 1], px[3 * p + 2]], [(5 * 31 + p) & 255, (5 * 31 + 85 + p) & 255, (5 * 31 + 170 + p) & 255]);
  // The batch directory itself works as root too, and reloads hit the cache.
  const test10 = loadCifar10({ root: dir, split: 'test' });
  assert.deepEqual(Array.from(test10.labels), [0, 1, 2]);
  assert.equal(loadCifar10({ root: dir, split: 'test' }), test10);
});

test('CIFAR-10: env var root, missing root, missing batch, bad names file', () => {
  const { root, dir } = cifar10Fixture();
  const old = process.env.CIVET_CIFAR10;
  try {
    delete process.env.CIVET_CIFAR10;
    expectErr(() => loadCifar10(), /no dataset root given.*CIVET_CIFAR10/);
    process.env.CIVET_CIFAR10 = root;
    clearCifarCache();
    assert.equal(loadCifar10({ split: 'test' }).length, 3);
  } finally {
    if (old === undefined) delete process.env.CIVET_CIFAR10;
    else process.env.CIVET_CIFAR10 = old;
  }
  const empty = tmp('cifar10-empty');
  expectErr(() => loadCifar10({ root: empty }), new RegExp(`cifar-10-batches-bin not found: looked for ${empty}/batches.meta.txt`));
  fs.rmSync(path.join(dir, 'data_batch_4.bin'));
  expectErr(() => loadCifar10({ root }), /data_batch_4\.bin: CIFAR-10 train batch file missing/);
  fs.writeFileSync(path.join(dir, 'batches.meta.txt'), 'cat\ndog\n');
  expectErr(() => loadCifar10({ root, split: 'test' }), /batches\.meta\.txt: expected 10 class names, found 2/);
});

test('CIFAR-10: truncated file and out-of-range label are reported with file and position', () => {
  const { root, dir } = cifar10Fixture();
  const f = path.join(dir, 'test_batch.bin');
  fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 3073 * 2 + 100));
  const err = expectErr(() => loadCifar10({ root, split: 'test' }), /test_batch\.bin: file length 6246 is not a positive multiple of the 3073-byte record size \(2 whole records \+ 100 bytes\)/);
  assert.equal(err.file, f);
  fs.writeFileSync(f, Buffer.alloc(0));
  expectErr(() => loadCifar10({ root, split: 'test' }), /test_batch\.bin: file length 0/);
  fs.writeFileSync(f, Buffer.concat([record([0], 1), record([10], 2)]));
  expectErr(() => loadCifar10({ root, split: 'test' }), /test_batch\.bin: class label 10 of record 1 \(byte offset 3073\) is outside 0\.\.9/);
});

function cifar100Fixture(): string {
  const dir = tmp('cifar100');
  fs.writeFileSync(path.join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine${i}`).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `coarse${i}`).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'train.bin'), Buffer.concat([record([3, 42], 1), record([19, 99], 2), record([0, 0], 3)]));
  fs.writeFileSync(path.join(dir, 'test.bin'), record([7, 77], 4));
  return dir;
}

test('CIFAR-100: fine and coarse labels, names, pixels', () => {
  const dir = cifar100Fixture();
  clearCifarCache();
  const fine = loadCifar100({ root: dir });
  assert.deepEqual(Array.from(fine.labels), [42, 99, 0]);
  assert.equal(fine.numClasses, 100);
  assert.equal(fine.classNames[99], 'fine99');
  const coarse = loadCifar100({ root: dir, labelMode: 'coarse' });
  assert.deepEqual(Array.from(coarse.labels), [3, 19, 0]);
  assert.equal(coarse.numClasses, 20);
  assert.deepEqual(Array.from(fine.get(1).pixels.subarray(0, 3)), [62, 62 + 85, 62 + 170]);
  assert.equal(loadCifar100({ root: dir, split: 'test' }).labels[0], 77);
});

test('CIFAR-100: bad record size and label ranges', () => {
  const dir = cifar100Fixture();
  fs.writeFileSync(path.join(dir, 'test.bin'), record([1], 0)); // a CIFAR-10 record: 3073 bytes
  expectErr(() => loadCifar100({ root: dir, split: 'test' }), /test\.bin: file length 3073 is not a positive multiple of the 3074-byte record size/);
  fs.writeFileSync(path.join(dir, 'test.bin'), record([20, 5], 0));
  expectErr(() => loadCifar100({ root: dir, split: 'test' }), /test\.bin: coarse label 20 of record 0 \(byte offset 0\) is outside 0\.\.19/);
  fs.writeFileSync(path.join(dir, 'test.bin'), Buffer.concat([record([1, 5], 0), record([1, 100], 0)]));
  expectErr(() => loadCifar100({ root: dir, split: 'test' }), /test\.bin: fine label 100 of record 1 \(byte offset 3075\) is outside 0\.\.99/);
  fs.rmSync(path.join(dir, 'coarse_label_names.txt'));
  expectErr(() => loadCifar100({ root: dir, labelMode: 'coarse' }), /coarse_label_names\.txt: class-name file missing/);
});
