// ModelEma against the formula ema ← decay·ema + (1 − decay)·value, computed here in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, tidy, noGrad, liveTensors } from '../tensor';
import { Module } from '../nn/module';
import { ModelEma } from './ema';

class Tiny extends Module {
  w: Tensor; b: Tensor; rm: Tensor;
  constructor(w: number[], b: number[]) {
    super();
    this.w = this.param('w', tensor(w, { dtype: 'float64' }));
    this.b = this.param('b', tensor(b, { dtype: 'float64' }));
    this.rm = this.buffer('running_mean', tensor([0, 0], { dtype: 'float64' }));
    this.buffer('count', tensor([0], { dtype: 'int64' }));
  }
  forward(x: Tensor): Tensor { return x; }
  set(w: number[], b: number[], rm: number[], count: number): void {
    noGrad(() => tidy(() => {
      this.w.copy_(tensor(w, { dtype: 'float64' }));
      this.b.copy_(tensor(b, { dtype: 'float64' }));
      this.rm.copy_(tensor(rm, { dtype: 'float64' }));
      this.stateDict().get('count')!.fill_(count);
    }));
  }
}
const arr = (t: Tensor) => Array.from(t.toFloat64Array());

test('ModelEma: params and float buffers follow decay·ema + (1 − decay)·value; int buffers are copied', () => {
  const m = new Tiny([1, 2, 3], [0.5]);
  const ema = new ModelEma(m, { decay: 0.9 });
  const ref = { w: [1, 2, 3], b: [0.5], rm: [0, 0] };
  const before = liveTensors();
  for (let k = 1; k <= 6; k++) {
    const w = [Math.sin(k), Math.cos(k), k / 3], b = [k * 0.1], rm = [k, -k];
    m.set(w, b, rm, k);
    assert.equal(ema.update(m), 0.9);
    ref.w = ref.w.map((e, i) => 0.9 * e + (1 - 0.9) * w[i]);
    ref.b = ref.b.map((e, i) => 0.9 * e + (1 - 0.9) * b[i]);
    ref.rm = ref.rm.map((e, i) => 0.9 * e + (1 - 0.9) * rm[i]);
    const sd = ema.stateDict();
    for (const [n, e] of Object.entries(ref)) arr(sd.get(n === 'rm' ? 'running_mean' : n)!).forEach((x, i) => assert.ok(Math.abs(x - e[i]) < 1e-14, `${n}[${i}] ${x} vs ${e[i]}`));
    assert.deepEqual(arr(sd.get('count')!), [k]);
  }
  assert.equal(liveTensors(), before, 'update leaked');
  assert.equal(ema.updates, 6);
  // the EMA holds its own copies: the model is untouched by it
  assert.deepEqual(arr(m.w), [Math.sin(6), Math.cos(6), 2]);
  ema.dispose(); m.dispose();
});

test('ModelEma: excludeBuffers copies buffers; decay warm-up as timm V3', () => {
  const m = new Tiny([1, 1, 1], [1]);
  const ema = new ModelEma(m, { decay: 0.999, excludeBuffers: true, warmup: true });
  m.set([0, 0, 0], [0], [5, 6], 1);
  // step 1: decay 0 (copy), as timm V3's get_decay (step − update_after_step − 1 <= 0)
  assert.equal(ema.update(m, 1), 0);
  assert.deepEqual(arr(ema.stateDict().get('w')!), [0, 0, 0]);
  m.set([1, 1, 1], [1], [7, 8], 2);
  const d = ema.update(m, 10);
  assert.equal(d, 1 - (1 + 9) ** (-2 / 3));
  arr(ema.stateDict().get('w')!).forEach((x) => assert.ok(Math.abs(x - (1 - d)) < 1e-15));
  assert.deepEqual(arr(ema.stateDict().get('running_mean')!), [7, 8]);
  assert.equal(ema.decayAt(1e12), 0.999);
  assert.equal(ema.decayAt(), 0.999);
  ema.dispose(); m.dispose();
});

test('ModelEma: state dict round trip, copyTo, withAveraged, name checks', () => {
  const m = new Tiny([1, 2, 3], [4]);
  const ema = new ModelEma(m, { decay: 0.5 });
  m.set([3, 2, 1], [0], [1, 1], 3);
  ema.update(m);
  const other = new ModelEma(new Tiny([0, 0, 0], [0]), { decay: 0.5 });
  other.loadStateDict(ema.stateDict(), ema.meta());
  assert.deepEqual(arr(other.stateDict().get('w')!), [2, 2, 2]);
  assert.equal(other.updates, 1);
  // evaluate with the averaged weights, then get the model's own back
  const seen = ema.withAveraged(m, () => arr(m.w));
  assert.deepEqual(seen, [2, 2, 2]);
  assert.deepEqual(arr(m.w), [3, 2, 1]);
  ema.copyTo(m);
  assert.deepEqual(arr(m.w), [2, 2, 2]);
  const wrong = new Tiny([1, 2], [0]);
  assert.throws(() => ema.update(wrong), /shape mismatches: w/);
  const sd = ema.stateDict();
  sd.delete('b');
  assert.throws(() => other.loadStateDict(sd), /missing in the state dict: b/);
  ema.dispose(); other.dispose(); m.dispose(); wrong.dispose();
});
