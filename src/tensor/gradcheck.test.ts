// The gradcheck helper itself: it accepts correct gradients and reports wrong ones precisely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, randn, Generator, tidy, liveTensors } from './index';
import { gradcheck } from './gradcheck';
import { assertNoLeak } from './testing';

test('gradcheck: returns true for correct gradients, scalar and non-scalar outputs', () => {
  assertNoLeak(() => tidy(() => {
    const g = new Generator(1);
    const x = randn([3, 4], { dtype: 'float64', generator: g });
    assert.equal(gradcheck((a) => a.mul(a).sum(), [x]), true);
    assert.equal(gradcheck((a) => a.exp(), [x]), true);
  }));
});

test('gradcheck: leaves its inputs untouched and works from float32 inputs', () => {
  assertNoLeak(() => tidy(() => {
    const x = tensor([1, 2, 3]);
    gradcheck((a) => a.square(), [x]);
    assert.equal(x.dtype, 'float32');
    assert.equal(x.requiresGrad, false);
    assert.equal(x.grad, null);
    assert.deepEqual(x.toArray(), [1, 2, 3]);
  }));
});

test('gradcheck: a wrong gradient throws naming input, element, analytic and numeric values', () => {
  assertNoLeak(() => tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float64' });
    const y = tensor([0.5, -1], { dtype: 'float64' });
    // the detached factor hides half of d(x²)/dx from autograd
    assert.throws(() => gradcheck((a, b) => a.mul(a.detach()).sum().add(b.sum()), [x, y]), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /input 0 at element 0 \(index \[0\]\)/);
      assert.match(e.message, /analytic (-?[\d.e-]+) vs numeric (-?[\d.e-]+)/);
      const [, a, n] = /analytic (\S+) vs numeric (\S+)/.exec(e.message)!;
      assert.ok(Math.abs(Number(n) - 2 * Number(a)) < 1e-6, `numeric ${n} should be twice analytic ${a}`);
      return true;
    });
    // the error names the right input when the second one is wrong
    assert.throws(() => gradcheck((a, b) => a.sum().add(b.mul(b.detach()).sum()), [x, y]), /input 1 at element 0/);
  }));
});

test('gradcheck: an output detached from the graph is reported (analytic 0)', () => {
  assertNoLeak(() => tidy(() => {
    const x = tensor([1, 2], { dtype: 'float64' });
    assert.throws(() => gradcheck((a) => a.detach().mul(2), [x]), /input 0 at element 0.*analytic 0 vs numeric/);
  }));
});

test('gradcheck: integer inputs pass through; requiresGrad selects inputs', () => {
  assertNoLeak(() => tidy(() => {
    const x = randn([4, 3], { dtype: 'float64', generator: new Generator(3) });
    const idx = tensor([2, 0, 2], { dtype: 'int64' });
    assert.equal(gradcheck((a, i) => a.indexSelect(0, i), [x, idx]), true);
    // only w is checked: the wrong gradient through x.detach() is not looked at
    const w = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    assert.equal(gradcheck((a, b) => a.detach().matmul(b), [x, w]), true);
    assert.throws(() => gradcheck((a) => a, [idx]), /no floating-point input/);
  }));
});

test('gradcheck: frees everything it creates, also when it throws', () => {
  const x = tensor([1, 2, 3], { dtype: 'float64' });
  const before = liveTensors();
  gradcheck((a) => a.sin().mul(a), [x]);
  assert.throws(() => gradcheck((a: Tensor) => a.detach().sin(), [x]));
  assert.equal(liveTensors(), before);
  x.dispose();
});
