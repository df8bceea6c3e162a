// The run's data from its config: an ImageFolder evaluation set must hold the training set's
// classes by name (train {cat, dog, eel} with val {cat, eel} used to label the eel images as dog).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadRunData } from './data';
import { loadConfig } from './schema';

async function folder(root: string, classes: string[]): Promise<void> {
  for (const c of classes) {
    fs.mkdirSync(path.join(root, c), { recursive: true });
    await sharp(Buffer.alloc(8 * 8 * 3, c.length), { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(path.join(root, c, 'a.png'));
  }
}

test('imagefolder: valRoot with a class missing from root is refused by name', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-data-'));
  await folder(path.join(dir, 'train'), ['cat', 'dog', 'eel']);
  await folder(path.join(dir, 'val'), ['cat', 'eel']);
  const cfg = (val: string) => loadConfig({
    run: { name: 'x' }, student: { model: 'tiny_cnn' }, epochs: 1, batchSize: 1, optimizer: { name: 'sgd', lr: 0.1 },
    data: { dataset: 'imagefolder', root: path.join(dir, 'train'), valRoot: path.join(dir, val), imgSize: 8, channels: 3 },
  }).config;
  await assert.rejects(loadRunData(cfg('val'), dir), /val: ImageFolder classes differ .*no folder for class dog/);
  await folder(path.join(dir, 'val2'), ['cat', 'dog', 'eel']);
  const d = await loadRunData(cfg('val2'), dir);
  assert.deepEqual(Array.from(d.test.labels), [0, 1, 2]);
});
