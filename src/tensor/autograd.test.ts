// The autograd API: backward, retained graphs, accumulation, functional grad, grad modes, detach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, ones, tidy, grad, noGrad, enableGrad, isGradEnabled, setGradEnabled, F } from './index';
import { assertClose, assertNoLeak } from './testing';

const t = (name: string, fn: () => void) => test(name, () => assertNoLeak(() => tidy(fn), name));
const leaf = (data: number[] | number[][]) => tensor(data, { dtype: 'float64', requiresGrad: true });

t('backward on a scalar; leaves get .grad, requiresGrad/isLeaf flags', () => {
  const x = leaf([1, 2, 3]);
  assert.equal(x.isLeaf, true);
  assert.equal(x.grad, null);
  const y = x.mul(x).sum();
  assert.equal(y.requiresGrad, true);
  assert.equal(y.isLeaf, false);
  y.backward();
  assertClose(x.grad!, [2, 4, 6]);
  const c = tensor([1, 2]);
  assert.equal(c.requiresGrad, false);
  assert.equal(c.mul(2).requiresGrad, false);
  c.requiresGrad_();
  assert.equal(c.requiresGrad, true);
});

t('backward with an explicit gradient (non-scalar output)', () => {
  const x = leaf([1, 2, 3]);
  const y = x.mul(2).add(x.square());  // dy/dx = 2 + 2x
  y.backward(tensor([1, 0.5, -1], { dtype: 'float64' }));
  assertClose(x.grad!, [4, 3, -8]);
  const z = leaf([[1, 2], [3, 4]]);
  z.exp().backward(ones([2, 2], { dtype: 'float64' }));
  assertClose(z.grad!, [[Math.exp(1), Math.exp(2)], [Math.exp(3), Math.exp(4)]], { atol: 1e-12 });
});

t('retainGraph: a second backward works only when the graph was retained', () => {
  const x = leaf([0.5, -1]);
  const y = x.exp().mul(x).sum();  // saves tensors: needs the graph for a second pass
  y.backward(null, { retainGraph: true });
  const g1 = x.grad!.toArray();
  y.backward();
  assertClose(x.grad!, g1.map((v: number) => 2 * v), { atol: 1e-12 });
  // without retainGraph the graph's buffers are freed
  const a = leaf([0.5, -1]);
  const b = a.exp().mul(a).sum();
  b.backward();
  assert.throws(() => b.backward(), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /backward through the graph a second time|retain_graph/i);
    return true;
  });
});

t('gradients accumulate across backward calls until reset', () => {
  const x = leaf([1, 2]);
  x.mul(3).sum().backward();
  x.mul(x).sum().backward();
  assertClose(x.grad!, [3 + 2, 3 + 4]);
  x.grad = null;
  assert.equal(x.grad, null);
  x.sum().backward();
  assertClose(x.grad!, [1, 1]);
  x.grad!.zero_();  // the handle aliases the accumulated gradient
  assertClose(x.grad!, [0, 0]);
  x.grad = tensor([5, 5], { dtype: 'float64' });
  x.sum().backward();
  assertClose(x.grad!, [6, 6]);
});

t('grad(): functional gradients, createGraph gives second derivatives of x³', () => {
  const x = leaf([1, 2, -3]);
  const y = x.pow(3).sum();
  const [g] = grad(y, x, { createGraph: true });
  assertClose(g!, [3, 12, 27]);
  assert.equal(g!.requiresGrad, true);
  const [g2] = grad(g!.sum(), x);
  assertClose(g2!, [6, 12, -18]);
  assert.equal(x.grad, null, 'grad() does not touch .grad');
  // backward through the first derivative populates .grad with the second
  const [h] = grad(x.pow(3).sum(), [x], { createGraph: true });
  h!.sum().backward();
  assertClose(x.grad!, [6, 12, -18]);
});

t('grad(): several inputs, gradOutputs, allowUnused, retainGraph', () => {
  const a = leaf([1, 2]), b = leaf([3, 4]), unused = leaf([0]);
  const y = a.mul(b);
  const [ga, gb] = grad(y, [a, b], { gradOutputs: [tensor([1, -1], { dtype: 'float64' })], retainGraph: true });
  assertClose(ga!, [3, -4]);
  assertClose(gb!, [1, -2]);
  const [gu, ga2] = grad(y.sum(), [unused, a], { allowUnused: true });
  assert.equal(gu, null);
  assertClose(ga2!, [3, 4]);
  const z = a.mul(2).sum();
  assert.throws(() => grad(z, [unused]), /not have been used in the graph|allow_unused/i);
});

t('noGrad / enableGrad nest and restore the mode, also on exceptions', () => {
  const x = leaf([1, 2]);
  assert.equal(isGradEnabled(), true);
  const inner = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    const a = x.mul(2);
    const b = enableGrad(() => {
      assert.equal(isGradEnabled(), true);
      const c = x.mul(3);
      const d = noGrad(() => x.mul(4));
      assert.equal(d.requiresGrad, false);
      return c;
    });
    assert.equal(isGradEnabled(), false);
    return { a, b };
  });
  assert.equal(inner.a.requiresGrad, false);
  assert.equal(inner.b.requiresGrad, true);
  inner.b.sum().backward();
  assertClose(x.grad!, [3, 3]);
  assert.equal(isGradEnabled(), true);
  assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
  assert.equal(isGradEnabled(), true, 'restored after an exception');
  setGradEnabled(false);
  try {
    assert.equal(x.add(1).requiresGrad, false);
    assert.throws(() => enableGrad(() => { throw new Error('inner'); }), /inner/);
    assert.equal(isGradEnabled(), false);
  } finally {
    setGradEnabled(true);
  }
  // noGrad returns the function's value, any type
  assert.equal(noGrad(() => 42), 42);
});

t('detach: no grad, shares storage, stops gradient flow', () => {
  const x = leaf([1, 2]);
  const d = x.detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.isLeaf, true);
  noGrad(() => x.mul_(2));  // in place on the leaf, visible through the detached view
  assertClose(d, [2, 4]);
  x.mul(d).sum().backward();
  assertClose(x.grad!, [2, 4], { msg: 'only the non-detached factor contributes' });
  const y = leaf([1]);
  assert.equal(y.mul(2).detach().requiresGrad, false);
});

t('backward errors: non-scalar without gradient, tensor without grad', () => {
  const x = leaf([1, 2, 3]);
  assert.throws(() => x.mul(2).backward(), /grad can be implicitly created only for scalar outputs.*shape \[3\]/);
  assert.throws(() => tensor([1]).backward(), /does not require grad/);
  assert.throws(() => x.mul(2).backward(tensor([1, 1], { dtype: 'float64' })), /shape|size/i);
});

t('gradients flow through losses into parameters (tiny linear regression step)', () => {
  const w = tensor([[0.5, -0.5]], { dtype: 'float64', requiresGrad: true });
  const xin = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
  const target = tensor([[1], [2]], { dtype: 'float64' });
  const loss = F.mse_loss(F.linear(xin, w), target);
  loss.backward();
  // d/dw mean((xw - t)²) = 2/N Σ (xw - t) x
  const pred = [0.5 - 1, 1.5 - 2];
  const r = [pred[0] - 1, pred[1] - 2];
  assertClose(w.grad!, [[(2 / 2) * (r[0] * 1 + r[1] * 3), (2 / 2) * (r[0] * 2 + r[1] * 4)]], { atol: 1e-12 });
});
