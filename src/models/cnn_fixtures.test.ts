// Logit-exact checks against PyTorch (test/fixtures/models/make_fixtures.py): the reference
// models' weights are a formula of (entry number, element index), rebuilt here bit-for-bit, so the
// fixture holds only names, shapes, recipes and the expected logits (computed in float64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor, fromTypedArray, zeros, noGrad, tidy } from '../tensor';
import { createModel } from './registry';
import { convertTorchvisionStateDict } from '../interop/torchvision';
import './resnet';
import './cifar_resnet';
import './regnet';
import './rednet';

const FIXTURE = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'models', 'cnn_logits.json');

interface FixtureCase {
  name: string; model: string; arch: string; num_classes: number; naming: 'torchvision' | 'civet';
  params: [string, number[], number, number][]; input_shape: number[]; logits_shape: number[]; logits: number[];
}
interface Fixture { input_k: number; cases: FixtureCase[] }

/** murmur3 fmix32 of (i + (k+1)·0x9E3779B9) mod 2^32 as uniform [-1, 1), then offset + scale·s. Same as make_fixtures.py. */
function formulaValues(n: number, k: number, scale = 1, offset = 0): Float32Array {
  const out = new Float32Array(n);
  const base = Math.imul(k + 1, 0x9e3779b9) >>> 0;
  for (let i = 0; i < n; i++) {
    let h = (i + base) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const s = ((h >>> 0) / 4294967296) * 2 - 1;
    out[i] = offset + scale * s;
  }
  return out;
}

const fixture: Fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));

test('the weight formula matches numpy (spot values)', () => {
  // make_fixtures.formula([3], 5, 0.3, 1.0).tolist() and fmix(arange(3), 0) (stored as float32 here)
  assert.deepEqual(Array.from(formulaValues(3, 5, 0.3, 1.0)), [1.2138721942901611, 1.1813982725143433, 1.129593849182129]);
  assert.deepEqual(Array.from(formulaValues(3, 0)), [0.1467951601371169, 0.1767875454388559, 0.4082674658857286].map(Math.fround));
});

for (const c of fixture.cases) {
  test(`${c.name}: logits equal PyTorch's for formula weights (${c.naming} names${c.naming === 'torchvision' ? ' through the converter' : ''})`, () => {
    const sd = new Map<string, Tensor>();
    c.params.forEach(([name, shape, scale, offset], k) => {
      const n = shape.reduce((a, b) => a * b, 1);
      sd.set(name, name.endsWith('num_batches_tracked') ? zeros(shape, { dtype: 'int64' }) : fromTypedArray(formulaValues(n, k, scale, offset), shape));
    });
    const model = createModel(c.model, { numClasses: c.num_classes });
    try {
      model.loadStateDict(c.naming === 'torchvision' ? convertTorchvisionStateDict(c.arch, sd) : sd, { source: `${c.name} fixture` });
      model.eval();
      const n = c.input_shape.reduce((a, b) => a * b, 1);
      const got = tidy(() => noGrad(() => model.forward(fromTypedArray(formulaValues(n, fixture.input_k), c.input_shape))).toFloat64Array());
      assert.equal(got.length, c.logits.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) {
        const excess = Math.abs(got[i] - c.logits[i]) - (2e-4 + 2e-4 * Math.abs(c.logits[i]));
        if (excess > worst) worst = excess;
        assert.ok(excess <= 0, `${c.name} logit ${i}: got ${got[i]}, want ${c.logits[i]}`);
      }
    } finally {
      model.dispose();
      for (const t of sd.values()) t.dispose();
    }
  });
}
