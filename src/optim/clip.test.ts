// clipGradNorm against torch.nn.utils.clip_grad_norm_ (1.13) values in test/fixtures/optim/clip.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor, tensor, tidy, zeros, liveTensors } from '../tensor';
import type { DType } from '../tensor';
import { clipGradNorm, gradsAreFinite, nonFiniteGrads, SGD, NamedParam } from './index';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'optim');
interface ClipCase {
  dtype: DType; max_norm: number; norm_type: number | 'inf'; shapes: Record<string, number[]>;
  grads: Record<string, number[]>; total_norm: number; clipped: Record<string, number[]>;
}
const fixture: { cases: ClipCase[] } = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'clip.json'), 'utf8'));

function params(c: ClipCase): NamedParam[] {
  return Object.entries(c.shapes).map(([name, s]) => {
    const t = zeros(s, { dtype: c.dtype, requiresGrad: true });
    tidy(() => { t.grad = tensor(c.grads[name], { dtype: c.dtype }).reshape(s).clone(); });
    return { name, tensor: t };
  });
}

function close(a: number, e: number, dtype: DType): boolean {
  const tol = dtype === 'float64' ? 1e-13 : 1e-6;
  return Math.abs(a - e) <= tol * (1 + Math.abs(e));
}

for (const c of fixture.cases) {
  test(`clipGradNorm ${c.dtype} maxNorm ${c.max_norm} norm ${c.norm_type} matches torch`, () => {
    const ps = params(c);
    const before = liveTensors();
    const total = clipGradNorm(ps, c.max_norm, c.norm_type === 'inf' ? Infinity : c.norm_type);
    assert.equal(liveTensors(), before, 'clipGradNorm leaked');
    assert.ok(close(total, c.total_norm, c.dtype), `total norm ${total} vs torch ${c.total_norm}`);
    for (const p of ps) {
      const g = p.tensor.grad!;
      const a = g.toFloat64Array();
      g.dispose();
      c.clipped[p.name].forEach((e, i) => assert.ok(close(a[i], e, c.dtype), `${p.name}[${i}] ${a[i]} vs torch ${e}`));
      p.tensor.dispose();
    }
  });
}

test('clipGradNorm: no gradients → 0; accepts tensors and optimizers; skips params without grads', () => {
  const a = zeros([3], { dtype: 'float64', requiresGrad: true });
  const b = zeros([2], { dtype: 'float64', requiresGrad: true });
  assert.equal(clipGradNorm([a, b], 1), 0);
  tidy(() => { a.grad = tensor([3, 0, 4], { dtype: 'float64' }); });
  const opt = new SGD([{ name: 'a', tensor: a }, { name: 'b', tensor: b }], { lr: 0.1 });
  assert.equal(clipGradNorm(opt, 1), 5);
  const vals = (t: Tensor) => { const g = t.grad!; try { return Array.from(g.toFloat64Array()); } finally { g.dispose(); } };
  // torch's coefficient: maxNorm / (total + 1e-6)
  vals(a).forEach((x, i) => assert.ok(Math.abs(x - [3, 0, 4][i] / (5 + 1e-6)) < 1e-15));
  // under the limit: the coefficient clamps to 1 and the gradient is unchanged
  const clipped = vals(a);
  assert.ok(Math.abs(clipGradNorm([a], 10) - 5 / (5 + 1e-6)) < 1e-12);
  assert.deepEqual(vals(a), clipped);
  assert.throws(() => clipGradNorm([a], -1), /maxNorm/);
  opt.dispose(); a.dispose(); b.dispose();
});

test('gradsAreFinite / nonFiniteGrads / errorIfNonfinite', () => {
  const a = zeros([3], { requiresGrad: true });
  const b = zeros([2], { requiresGrad: true });
  const named = [{ name: 'a', tensor: a }, { name: 'b', tensor: b }];
  assert.equal(gradsAreFinite(named), true); // no gradients at all
  tidy(() => { a.grad = tensor([1, 2, 3]); b.grad = tensor([4, 5]); });
  const before = liveTensors();
  assert.equal(gradsAreFinite(named), true);
  assert.equal(gradsAreFinite([a]), true);
  assert.equal(liveTensors(), before);
  tidy(() => { b.grad = tensor([4, NaN]); });
  assert.equal(gradsAreFinite(named), false);
  assert.deepEqual(nonFiniteGrads(named), ['b']);
  tidy(() => { b.grad = tensor([Infinity, 1]); });
  assert.equal(gradsAreFinite(named), false);
  assert.throws(() => clipGradNorm(named, 1, 2, { errorIfNonfinite: true }), /non-finite/);
  assert.equal(clipGradNorm(named, 1), Infinity); // torch: returns inf and scales grads by 0/NaN
  a.dispose(); b.dispose();
});
