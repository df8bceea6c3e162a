import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { ImageFolder, decodeImage } from './image_folder';
import { DatasetError } from './errors';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-imgfolder-'));
  dirs.push(d);
  return d;
}

function solid(w: number, h: number, channels: 1 | 3 | 4, value: number[]): sharp.Sharp {
  const buf = Buffer.alloc(w * h * channels);
  for (let i = 0; i < buf.length; i++) buf[i] = value[i % channels];
  return sharp(buf, { raw: { width: w, height: h, channels } });
}

async function write(file: string, img: sharp.Sharp, fmt: 'png' | 'jpeg' | 'webp'): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const out = fmt === 'png' ? img.png() : fmt === 'jpeg' ? img.jpeg({ quality: 95 }) : img.webp({ lossless: true });
  fs.writeFileSync(file, await out.toBuffer());
}

/** A JPEG big enough that cutting it in half leaves the headers intact but the scan incomplete. */
async function noisyJpeg(): Promise<Buffer> {
  const w = 64, h = 64;
  const raw = crypto.randomBytes(w * h * 3);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** root/{b_dog, a_cat, C_bird}: PNG/JPEG/WebP files of 6x4 or 4x4, grey, RGB and RGBA. */
async function fixture(): Promise<string> {
  const root = tmp();
  await write(path.join(root, 'b_dog', 'x.png'), solid(6, 4, 3, [10, 20, 30]), 'png');
  await write(path.join(root, 'b_dog', 'nested', 'y.webp'), solid(6, 4, 4, [40, 50, 60, 128]), 'webp');
  await write(path.join(root, 'a_cat', 'grey.PNG'), solid(6, 4, 1, [77]), 'png');
  await write(path.join(root, 'a_cat', 'photo.jpeg'), solid(6, 4, 3, [200, 100, 0]), 'jpeg');
  await write(path.join(root, 'C_bird', 'z.jpg'), solid(4, 4, 3, [1, 2, 3]), 'jpeg');
  fs.writeFileSync(path.join(root, 'a_cat', 'notes.txt'), 'not an image');
  fs.writeFileSync(path.join(root, 'README.md'), 'loose files in root are ignored');
  fs.mkdirSync(path.join(root, '.cache'));
  return root;
}

test('scan: classes sorted by code point, recursive, extension match ignores case', async () => {
  const root = await fixture();
  const ds = new ImageFolder(root);
  assert.deepEqual(ds.classNames, ['C_bird', 'a_cat', 'b_dog']);
  assert.deepEqual(ds.files.map((f) => path.relative(root, f)), ['C_bird/z.jpg', 'a_cat/grey.PNG', 'a_cat/photo.jpeg', 'b_dog/nested/y.webp', 'b_dog/x.png']);
  assert.deepEqual(Array.from(ds.labels), [0, 1, 1, 2, 2]);
  assert.equal(ds.height, null);
});

test('get(): RGB output, grey expanded to 3 channels, alpha dropped', async () => {
  const ds = new ImageFolder(await fixture());
  const grey = await ds.get(1);
  assert.deepEqual([grey.height, grey.width, grey.channels, grey.pixels.length, grey.label], [4, 6, 3, 72, 1]);
  assert.ok(grey.pixels.every((v) => v === 77));
  const rgba = await ds.get(3); // lossless WebP: exact values
  assert.equal(rgba.pixels.length, 6 * 4 * 3);
  assert.deepEqual(Array.from(rgba.pixels.subarray(0, 6)), [40, 50, 60, 40, 50, 60]);
  const png = await ds.get(4);
  assert.deepEqual(Array.from(png.pixels.subarray(0, 3)), [10, 20, 30]);
  const jpg = await ds.get(2); // lossy: close, not exact
  assert.ok(Math.abs(jpg.pixels[0] - 200) < 6 && Math.abs(jpg.pixels[1] - 100) < 6 && jpg.pixels[2] < 6);
  await assert.rejects(ds.get(5), /out of range/);
});

test('load() without size rejects mixed sizes, naming the file and suggesting size', async () => {
  const ds = new ImageFolder(await fixture());
  await assert.rejects(ds.load(), (err: unknown) => {
    assert.ok(err instanceof DatasetError);
    assert.match(err.message, /is 4x6 but .*z\.jpg is 4x4; pass the size option/);
    return true;
  });
});

test('load() with size resizes to a uniform NHWC buffer', async () => {
  const ds = new ImageFolder(await fixture(), { size: [5, 7], concurrency: 2 });
  assert.deepEqual([ds.height, ds.width], [5, 7]);
  const mem = await ds.load();
  assert.deepEqual([mem.length, mem.height, mem.width, mem.channels, mem.numClasses], [5, 5, 7, 3, 3]);
  assert.equal(mem.images.length, 5 * 5 * 7 * 3);
  assert.deepEqual(Array.from(mem.labels), [0, 1, 1, 2, 2]);
  assert.ok(mem.get(1).pixels.every((v) => v === 77)); // resizing a flat grey image stays flat
  assert.equal(ds.corruptCount, 0);
  for (const fit of ['cover', 'contain'] as const) {
    const out = await decodeImage(path.join(ds.root, 'b_dog', 'x.png'), { size: 3, fit });
    assert.deepEqual([out.height, out.width, out.pixels.length], [3, 3, 27]);
  }
});

test('corrupt files: default rejects naming the file; skipCorrupt warns, counts and drops', async () => {
  const root = await fixture();
  fs.writeFileSync(path.join(root, 'a_cat', 'random.jpg'), crypto.randomBytes(500));
  const jpg = await noisyJpeg();
  fs.writeFileSync(path.join(root, 'b_dog', 'truncated.jpg'), jpg.subarray(0, jpg.length >> 1));

  const strict = new ImageFolder(root, { size: 4 });
  const randomIdx = strict.files.findIndex((f) => f.endsWith('random.jpg'));
  const truncIdx = strict.files.findIndex((f) => f.endsWith('truncated.jpg'));
  await assert.rejects(strict.get(randomIdx), (err: unknown) => {
    assert.ok(err instanceof DatasetError);
    assert.equal(err.file, path.join(root, 'a_cat', 'random.jpg'));
    assert.match(err.message, /random\.jpg: cannot decode image/);
    return true;
  });
  await assert.rejects(strict.get(truncIdx), /truncated\.jpg: cannot decode image: .*(Premature end|truncat)/i);
  await assert.rejects(strict.load(), /cannot decode image/);

  const warnings: string[] = [];
  const lenient = new ImageFolder(root, { size: 4, skipCorrupt: true, onWarning: (m) => warnings.push(m) });
  assert.equal(lenient.length, 7);
  const mem = await lenient.load();
  assert.equal(mem.length, 5);
  assert.equal(lenient.corruptCount, 2);
  assert.deepEqual(lenient.corrupt.map((c) => path.basename(c.file)), ['random.jpg', 'truncated.jpg']);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /skipping corrupt image .*random\.jpg/);
  assert.deepEqual(Array.from(mem.labels), [0, 1, 1, 2, 2]);
});

test('all images corrupt with skipCorrupt still fails clearly', async () => {
  const root = tmp();
  fs.mkdirSync(path.join(root, 'only'));
  fs.writeFileSync(path.join(root, 'only', 'bad.png'), 'nope');
  const ds = new ImageFolder(root, { skipCorrupt: true, onWarning: () => {} });
  await assert.rejects(ds.load(), /none of the 1 images could be decoded/);
});

test('missing root, file as root, no class dirs, empty class', async () => {
  const root = tmp();
  const missing = path.join(root, 'nope');
  assert.throws(() => new ImageFolder(missing), (err: unknown) => err instanceof DatasetError && err.file === missing && /does not exist/.test(err.message));
  fs.writeFileSync(path.join(root, 'file.png'), 'x');
  assert.throws(() => new ImageFolder(path.join(root, 'file.png')), /file\.png: ImageFolder root is not a directory/);
  assert.throws(() => new ImageFolder(root), /has no class subdirectories/);
  await write(path.join(root, 'full', 'a.png'), solid(2, 2, 3, [0, 0, 0]), 'png');
  fs.mkdirSync(path.join(root, 'empty1'));
  fs.mkdirSync(path.join(root, 'empty2'));
  fs.writeFileSync(path.join(root, 'empty2', 'a.gif'), 'gif is not in the default extensions');
  assert.throws(() => new ImageFolder(root), /no images for classes empty1, empty2; supported extensions are \.jpg, \.jpeg, \.png, \.webp/);
  assert.throws(() => new ImageFolder(root, { size: 0 }), /size must be a positive integer/);
});

test('classes: a folder must hold the expected classes by name (a missing one is an error, not shifted labels)', async () => {
  const root = tmp();
  for (const c of ['cat', 'eel']) await write(path.join(root, c, 'a.png'), solid(4, 4, 3, [1, 2, 3]), 'png');
  assert.throws(() => new ImageFolder(root, { classes: ['cat', 'dog', 'eel'] }),
    (e: any) => e instanceof DatasetError && e.message.includes(root) && /no folder for class dog/.test(e.message));
  await write(path.join(root, 'emu', 'a.png'), solid(4, 4, 3, [1, 2, 3]), 'png');
  assert.throws(() => new ImageFolder(root, { classes: ['cat', 'eel'] }), /class folder emu not among the expected classes/);
  const ok = new ImageFolder(root, { classes: ['cat', 'eel', 'emu'] });
  assert.deepEqual(ok.classNames, ['cat', 'eel', 'emu']);
});
