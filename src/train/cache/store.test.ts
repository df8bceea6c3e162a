import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OutputStore } from './store';

const ID = { weightsHash: 'w1', transformHash: 't1', dataset: 'synth:24', width: 3, views: 2, samples: 10, chunkSlots: 4 };
const row = (i: number) => Float32Array.from([i, i + 0.5, -i]);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'civet-cache-'));

test('store: a row comes back exactly under its key, another key is a miss, and it survives reopening', () => {
  const dir = tmp(), log: string[] = [];
  const s = new OutputStore(dir, ID);
  s.put(3, 1, 'aabbccddeeff0011', row(3));
  assert.deepEqual(s.get(3, 1, 'aabbccddeeff0011'), row(3));
  assert.equal(s.get(3, 1, 'aabbccddeeff0012'), null, 'a view with other parameters is a miss');
  assert.equal(s.get(3, 0, 'aabbccddeeff0011'), null);
  s.flush();
  const r = new OutputStore(dir, ID, (l) => log.push(l));
  assert.deepEqual(r.get(3, 1, 'aabbccddeeff0011'), row(3));
  assert.deepEqual(log, []);
});

test('store: a corrupted chunk is detected, dropped and refilled', () => {
  const dir = tmp(), log: string[] = [];
  const s = new OutputStore(dir, ID);
  s.put(0, 0, '0000000000000001', row(1));   // slot 0: chunk 0
  s.put(4, 0, '0000000000000002', row(2));   // slot 8: chunk 2
  s.flush();
  const f = path.join(dir, 'chunk-0.bin');
  const b = fs.readFileSync(f); b[40] ^= 0xff; fs.writeFileSync(f, b);
  const r = new OutputStore(dir, ID, (l) => log.push(l));
  assert.equal(r.get(0, 0, '0000000000000001'), null, 'the damaged chunk serves nothing');
  assert.match(log.join('\n'), /chunk-0\.bin: checksum mismatch/);
  assert.deepEqual(r.get(4, 0, '0000000000000002'), row(2), 'other chunks are kept');
  r.put(0, 0, '0000000000000001', row(1)); r.flush();
  assert.deepEqual(new OutputStore(dir, ID).get(0, 0, '0000000000000001'), row(1), 'rebuilt');
});

test('store: other teacher weights, another transform config or another dataset invalidate it', () => {
  for (const change of [{ weightsHash: 'w2' }, { transformHash: 't2' }, { dataset: 'other:24' }]) {
    const dir = tmp(), log: string[] = [];
    const s = new OutputStore(dir, ID);
    s.put(1, 1, '00000000000000ff', row(7)); s.flush();
    const r = new OutputStore(dir, { ...ID, ...change }, (l) => log.push(l));
    assert.equal(r.get(1, 1, '00000000000000ff'), null);
    assert.match(log.join('\n'), new RegExp(`another ${Object.keys(change)[0]}.*refusing it and rebuilding`));
    assert.deepEqual(new OutputStore(dir, ID, () => undefined).get(1, 1, '00000000000000ff'), null, 'the old rows are gone');
  }
});

test('store: two processes flushing the same chunk at once never tear it (a study running cached variants in parallel)', async () => {
  const dir = tmp();
  new OutputStore(dir, ID);
  // each writer owns one sample's slots in chunk 0 and flushes it 150 times
  const writer = (index: number) => `
    const { OutputStore } = require(${JSON.stringify(path.join(__dirname, 'store.js'))});
    const s = new OutputStore(${JSON.stringify(dir)}, ${JSON.stringify(ID)});
    for (let n = 0; n < 150; n++) { s.put(${index}, n % 2, '00000000000000' + (10 + (n % 2)), Float32Array.from([n, ${index}, 0])); s.flush(); }`;
  const { spawn } = await import('node:child_process');
  const codes = await Promise.all([0, 1].map((i) => new Promise<number | null>((resolve) => {
    const p = spawn(process.execPath, ['-e', writer(i)], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (c) => resolve(c));
  })));
  assert.deepEqual(codes, [0, 0], 'neither writer failed (a shared temporary file would make a rename fail)');
  const log: string[] = [];
  const r = new OutputStore(dir, ID, (l) => log.push(l));
  const got = [0, 1].map((i) => r.get(i, 1, '0000000000000011'));
  assert.deepEqual(log, [], 'the chunk on disk is whole: its checksum holds');
  assert.ok(got.some((g) => g !== null && g[0] === 149), 'the later writer\'s last row is there');
  for (const g of got) if (g !== null) assert.equal(g[0] % 2, 1, 'a row stored under a key is that key\'s row');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');
});
