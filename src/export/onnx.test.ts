// The ONNX exporter against onnxruntime-node: every exportable zoo architecture, random and
// after training steps, max |Δ logits| ≤ 1e-4 on 32 inputs; the file's structure (opset,
// dynamic batch, names, metadata, folded BatchNorm); clear errors for what cannot be exported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, manualSeed } from '../tensor';
import { Module } from '../nn/module';
import { GroupNorm, Linear } from '../nn/layers';
import { exportOnnx, registerExporter, parseMetadata, ExportError } from './export';
import { readOnnxSummary } from './proto';
import { checkParity } from './parity';
import { EXPORT_CASES, perturb, trainSteps } from './testing';
import { readoutForward } from './run';

const TOL = 1e-4;

for (const c of EXPORT_CASES) {
  test(`export ${c.name}: onnxruntime-node logits equal civet's (random init and after 3 training steps)`, async () => {
    manualSeed(0);
    const m = c.build();
    perturb(m);
    for (const readout of c.readouts ?? [undefined]) {
      const { bytes } = exportOnnx(m, { inputShape: c.input, options: { readout } });
      const forward = readoutForward(m, readout);
      const p = await checkParity(m, bytes, c.input, { n: 32, forward });
      assert.ok(p.maxAbsDiff <= TOL, `${c.name}${readout ? ` (${readout})` : ''} random: max |Δ| ${p.maxAbsDiff}`);
      assert.ok(p.maxAbsLogit > 1e-3, `${c.name}: logits are all ~0 (${p.maxAbsLogit}); the comparison would prove nothing`);
    }
    m.dispose();
    // the architecture's own initialisation, then training steps
    manualSeed(0);
    const t = c.build();
    trainSteps(t, c.input);
    const { bytes } = exportOnnx(t, { inputShape: c.input });
    const p = await checkParity(t, bytes, c.input, { n: 32 });
    assert.ok(p.maxAbsDiff <= TOL, `${c.name} trained: max |Δ| ${p.maxAbsDiff} (max |logit| ${p.maxAbsLogit})`);
    assert.ok(p.maxAbsLogit > 1e-4, `${c.name} trained: logits are all ~0`);
    t.dispose();
  });
}

test('export: opset 17, dynamic batch, input/output names, metadata, weights as initializers, BatchNorm folded', async () => {
  manualSeed(0);
  const c = EXPORT_CASES.find((e) => e.name === 'resnet8')!;
  const m = c.build();
  perturb(m);
  const md = { model: 'resnet8', classNames: 'abcdefghij'.split(''), normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }, input: c.input, source: { channels: 3, height: 16, width: 16 } };
  const r = exportOnnx(m, { inputShape: c.input, metadata: md });
  const s = readOnnxSummary(r.bytes);
  assert.equal(s.producer, 'civet');
  assert.ok(s.opsets.some((o) => o.domain === '' && o.version >= 17));
  assert.deepEqual(s.inputs, [{ name: 'input', dims: ['batch', 3, 16, 16] }]);
  assert.deepEqual(s.outputs, [{ name: 'logits', dims: ['batch', 10] }]);
  assert.ok(!s.opTypes.includes('BatchNormalization'), `BatchNorm left unfolded: ${s.opTypes}`);
  assert.equal(r.foldedBatchNorms, 9);
  assert.deepEqual(parseMetadata(s.metadata), { ...md, readout: undefined, run: undefined });
  // every batch size runs (the batch dimension is symbolic)
  for (const n of [1, 5]) {
    const p = await checkParity(m, r.bytes, c.input, { x: randn([n, ...c.input]) });
    assert.equal(p.n, n);
    assert.ok(p.maxAbsDiff <= TOL);
  }
  m.dispose();
});

test('export: BatchNorm after something other than a conv stays a standard BatchNormalization (RedNet stem)', () => {
  manualSeed(0);
  const m = EXPORT_CASES.find((e) => e.name === 'rednet26')!.build();
  const s = readOnnxSummary(exportOnnx(m, { inputShape: [3, 32, 32] }).bytes);
  assert.ok(s.opTypes.includes('BatchNormalization'));   // the BN after the stem's involution
  assert.ok(s.opTypes.includes('Pad') && s.opTypes.includes('Slice') && s.opTypes.includes('ReduceSum')); // involution as unfold + multiply-sum
  assert.ok(s.opTypes.includes('Conv'));
  m.dispose();
});

test('export: transformers use standard ops (LayerNormalization, Erf-based GELU, MatMul/Softmax attention)', () => {
  manualSeed(0);
  const m = EXPORT_CASES.find((e) => e.name === 'vit_tiny')!.build();
  const s = readOnnxSummary(exportOnnx(m, { inputShape: [3, 16, 16] }).bytes);
  for (const op of ['LayerNormalization', 'Erf', 'Softmax', 'MatMul', 'Expand', 'Concat']) assert.ok(s.opTypes.includes(op), `no ${op} in ${s.opTypes}`);
  m.dispose();
});

class Odd extends Module {
  readonly norm = this.module('norm', new GroupNorm(2, 4));
  readonly fc = this.module('fc', new Linear(4, 3));
  forward(x: any) { return this.fc.call(this.norm.call(x).mean([2, 3])); }
}
class Unknown extends Module { forward(x: any) { return x; } }

test('export: a module without an ONNX rule is an error naming its path and class', () => {
  assert.throws(() => exportOnnx(new Unknown(), { inputShape: [1, 2, 2] }), (e: any) => e instanceof ExportError && /module '\(the model itself\)' \(Unknown\)/.test(e.message));
  registerExporter(Odd, (cx, m, x) => cx.call(m.fc, cx.g.reduceMean(cx.call(m.norm, x), [2, 3], false)));
  const odd = new Odd();
  assert.throws(() => exportOnnx(odd, { inputShape: [4, 2, 2] }), (e: any) => e instanceof ExportError && /cannot export module 'norm' \(GroupNorm\)/.test(e.message));
  odd.dispose();
});

test('export: unknown read-out and a wrong input size are named', () => {
  manualSeed(0);
  const m = EXPORT_CASES.find((e) => e.name === 'civt_tiny')!.build();
  assert.throws(() => exportOnnx(m, { inputShape: [3, 16, 16], options: { readout: 'dist' } }), /CivT.*unknown read-out 'dist'/);
  const v = EXPORT_CASES.find((e) => e.name === 'vit_tiny')!.build();
  assert.throws(() => exportOnnx(v, { inputShape: [3, 32, 32] }), /PatchEmbed 'patch_embed': the model takes 16×16 images, the export input is 32×32/);
  m.dispose(); v.dispose();
});

test('readOnnxSummary: not ONNX and truncated files are clear errors', () => {
  manualSeed(0);
  const m = EXPORT_CASES.find((e) => e.name === 'tiny_cnn')!.build();
  const { bytes } = exportOnnx(m, { inputShape: [1, 28, 28] });
  assert.throws(() => readOnnxSummary(bytes.subarray(0, Math.floor(bytes.length / 2)), 'cut.onnx'), /cut\.onnx: not a readable ONNX model.*truncated/);
  assert.throws(() => readOnnxSummary(new TextEncoder().encode('hello, not a model'), 'x.onnx'), /x\.onnx: not/);
  m.dispose();
});
