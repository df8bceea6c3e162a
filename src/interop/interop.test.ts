import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromTypedArray, tensor, liveTensors, randn } from '../tensor';
import { loadTorchScript } from './torchscript';
import { saveSafetensors, loadSafetensors, loadWeights, saveWeights } from './weights';
import { Linear, Sequential, ReLU } from '../nn';

const FIX = path.resolve(__dirname, '../../../test/fixtures/torchscript');

test('a traced TorchScript module runs on civet tensors and matches PyTorch', () => {
  const ref = JSON.parse(fs.readFileSync(path.join(FIX, 'tiny_mlp.json'), 'utf8'));
  const m = loadTorchScript(path.join(FIX, 'tiny_mlp.pt'));
  const x = fromTypedArray(Float32Array.from(ref.input), ref.input_shape);
  const y = m.logits(x);
  assert.deepEqual(y.shape, ref.output_shape);
  const got = y.toFloat64Array();
  ref.output.forEach((v: number, i: number) => assert.ok(Math.abs(got[i] - v) < 1e-5, `output[${i}] ${got[i]} vs ${v}`));
  x.dispose(); y.dispose();
});

test('a file that is not TorchScript is a clear error, and a missing one too', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-ts-'));
  const bad = path.join(dir, 'garbage.pt');
  fs.writeFileSync(bad, 'this is not a zip archive');
  assert.throws(() => loadTorchScript(bad), /garbage\.pt' is not a loadable TorchScript file/);
  assert.throws(() => loadTorchScript(path.join(dir, 'nope.pt')), /TorchScript file not found: .*nope\.pt/);
  const m = loadTorchScript(path.join(FIX, 'tiny_mlp.pt'));
  const wrong = randn([2, 5]);
  assert.throws(() => m.forward(wrong), /mat1 and mat2 shapes cannot be multiplied|size mismatch|shape/);
  wrong.dispose();
});

test('safetensors round trip of civet tensors in several dtypes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-st-'));
  const file = path.join(dir, 'w.safetensors');
  const a = tensor([[1.5, -2], [3, 4]]);
  const b = tensor([1, 2, 3], { dtype: 'int64' });
  const c = tensor([0.5, 0.25], { dtype: 'bfloat16' });
  const d = tensor([true, false, true]);
  saveSafetensors(file, { a, b, c, d }, { note: 'hi' });
  const before = liveTensors();
  const { tensors, metadata } = loadSafetensors(file);
  assert.equal(metadata.note, 'hi');
  assert.deepEqual(tensors.get('a')!.toArray(), [[1.5, -2], [3, 4]]);
  assert.equal(tensors.get('b')!.dtype, 'int64');
  assert.deepEqual(tensors.get('b')!.toArray(), [1, 2, 3]);
  assert.equal(tensors.get('c')!.dtype, 'bfloat16');
  assert.deepEqual(tensors.get('c')!.to('float32').toArray(), [0.5, 0.25]);
  assert.deepEqual(tensors.get('d')!.toArray(), [true, false, true]);
  for (const t of tensors.values()) t.dispose();
  assert.ok(liveTensors() <= before + 1);
  for (const t of [a, b, c, d]) t.dispose();
});

test('module weights: save, load into a fresh model, mismatch report names the keys', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-w-'));
  const file = path.join(dir, 'mlp.safetensors');
  const m1 = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
  saveWeights(m1, file);
  const m2 = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
  loadWeights(m2, file);
  for (const [k, t] of m1.stateDict()) assert.deepEqual(m2.stateDict().get(k)!.toArray(), t.toArray(), k);
  const m3 = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 10));
  assert.throws(() => loadWeights(m3, file), (e: any) => /shape mismatches: 2\.weight \(model \[10,8\], .*mlp\.safetensors \[3,8\]\)/.test(e.message));
  const r = loadWeights(m3, file, { strict: false });
  assert.deepEqual(r.mismatched.map((x) => x.key).sort(), ['2.bias', '2.weight']);
  const trunc = path.join(dir, 'trunc.safetensors');
  fs.writeFileSync(trunc, fs.readFileSync(file).subarray(0, 100));
  assert.throws(() => loadWeights(m2, trunc), /trunc\.safetensors/);
  m1.dispose(); m2.dispose(); m3.dispose();
});
