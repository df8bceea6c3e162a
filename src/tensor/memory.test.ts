// Memory scopes: tidy, keep, dispose, Symbol.dispose, DisposedTensorError, and leak checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, DisposedTensorError, tensor, randn, zeros, ones, tidy, keep, dispose, liveTensors, F } from './index';
import { assertNoLeak } from './testing';

test('tidy frees every intermediate; liveTensors is unchanged afterwards', () => {
  const before = liveTensors();
  const v = tidy(() => {
    const a = randn([4, 4]);
    const b = a.matmul(a).relu().add(1);
    const parts = b.split(2);
    assert.ok(liveTensors() >= before + 4);
    return parts[0].sum().item();
  });
  assert.equal(typeof v, 'number');
  assert.equal(liveTensors(), before);
});

test('returned tensors survive tidy (also inside arrays, objects and Maps) and move to the parent scope', () => {
  assertNoLeak(() => {
    let inner!: Tensor, innerObj!: { a: Tensor; list: Tensor[]; m: Map<string, Tensor> }, dropped!: Tensor;
    tidy(() => {
      inner = tidy(() => { dropped = zeros([2]); return ones([2]).mul(3); });
      assert.equal(dropped.isDisposed, true);
      assert.equal(inner.isDisposed, false);
      assert.deepEqual(inner.toArray(), [3, 3]);
      innerObj = tidy(() => ({ a: ones([1]), list: [zeros([1]), ones([3])], m: new Map([['k', zeros([2])]]) }));
      assert.equal(innerObj.a.isDisposed || innerObj.list.some((t) => t.isDisposed) || innerObj.m.get('k')!.isDisposed, false);
    });
    // the outer scope did not return them: freed there
    assert.equal(inner.isDisposed, true);
    assert.equal(innerObj.a.isDisposed, true);
    assert.equal(innerObj.list[1].isDisposed, true);
    assert.equal(innerObj.m.get('k')!.isDisposed, true);
  });
});

test('a tensor returned through nested tidy calls survives all of them', () => {
  const before = liveTensors();
  const out = tidy(() => tidy(() => tidy(() => randn([3]).exp())));
  assert.equal(out.isDisposed, false);
  assert.equal(liveTensors(), before + 1);
  out.dispose();
  assert.equal(liveTensors(), before);
});

test('keep() survives enclosing tidy scopes until disposed by hand', () => {
  const before = liveTensors();
  let k1!: Tensor, k2!: Tensor[];
  tidy(() => {
    tidy(() => {
      k1 = randn([2]).keep();
      k2 = keep([zeros([1]), ones([1])]);
      randn([5]);  // freed
    });
    assert.equal(k1.isDisposed, false);
  });
  assert.equal(k1.isDisposed, false);
  assert.equal(k2[1].isDisposed, false);
  assert.equal(liveTensors(), before + 3);
  dispose([k1, { nested: k2 }]);
  assert.equal(liveTensors(), before);
});

test('an exception inside tidy still frees what it created (nested too) and propagates', () => {
  const before = liveTensors();
  let made!: Tensor;
  assert.throws(() => tidy(() => {
    made = randn([3]);
    tidy(() => { randn([2]); throw new RangeError('inner failure'); });
  }), (e: unknown) => e instanceof RangeError && e.message === 'inner failure');
  assert.equal(made.isDisposed, true);
  assert.equal(liveTensors(), before);
  // an engine error in the middle of a computation
  assert.throws(() => tidy(() => randn([2, 3]).matmul(randn([2, 3]))), /cannot be multiplied/);
  assert.equal(liveTensors(), before);
});

test('tidy rejects async functions without leaking what they created synchronously', () => {
  const before = liveTensors();
  assert.throws(() => tidy((async () => { randn([2]); return 1; }) as any), /must be synchronous/);
  assert.equal(liveTensors(), before);
});

test('using a disposed tensor throws DisposedTensorError with a clear message', () => {
  assertNoLeak(() => {
    const x = randn([2]);
    x.dispose();
    x.dispose();  // idempotent
    assert.equal(x.isDisposed, true);
    const check = (fn: () => unknown) => assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof DisposedTensorError, `got ${String(e)}`);
      assert.equal((e as Error).name, 'DisposedTensorError');
      assert.match((e as Error).message, /tensor used after dispose\(\).*keep\(\) it or return it from tidy/);
      return true;
    });
    check(() => x.add(1));
    check(() => x.shape);
    check(() => x.toArray());
    check(() => x.item());
    const y = tidy(() => ones([2]));
    check(() => y.add(x));
    check(() => y.matmul(x));
    y.dispose();
    check(() => y.mul(2));
    assert.equal(String(x), 'tensor(<disposed>)');
    // a tensor freed by tidy
    let escaped!: Tensor;
    tidy(() => { escaped = zeros([1]); });
    check(() => escaped.exp());
    check(() => F.relu(escaped));
  });
});

test('Symbol.dispose frees the tensor', () => {
  const before = liveTensors();
  const x = randn([3]);
  assert.equal(liveTensors(), before + 1);
  x[Symbol.dispose]();
  assert.equal(x.isDisposed, true);
  assert.equal(liveTensors(), before);
  assert.throws(() => x.neg(), DisposedTensorError);
});

test('views outlive a disposed base (storage is reference counted)', () => {
  assertNoLeak(() => {
    const base = tensor([1, 2, 3, 4]);
    const v = base.view(2, 2);
    const s = base.slice(0, 1, 3);
    base.dispose();
    assert.deepEqual(v.toArray(), [[1, 2], [3, 4]]);
    assert.deepEqual(s.toArray(), [2, 3]);
    v.dispose();
    s.dispose();
  });
});

test('tensors made outside tidy are not touched by it; returning them is fine', () => {
  assertNoLeak(() => {
    const outside = ones([2]);
    const r = tidy(() => { outside.add(1); return outside; });
    assert.equal(r, outside);
    assert.equal(outside.isDisposed, false);
    outside.dispose();
  });
});

test('op overhead path: 10,000 x.add(y) inside tidy leave liveTensors unchanged', () => {
  const x = ones([4]), y = ones([4]);
  assertNoLeak(() => {
    const r = tidy(() => {
      let acc = x;
      for (let i = 0; i < 10_000; i++) acc = acc.add(y);
      return acc.sum().item();
    });
    assert.equal(r, 4 * 10_001);
  }, '10,000 adds');
  // and freeing each result by hand in a loop
  assertNoLeak(() => {
    for (let i = 0; i < 10_000; i++) x.add(y).dispose();
  }, 'add+dispose loop');
  x.dispose();
  y.dispose();
});

test('gradients and autograd results are freed by tidy', () => {
  assertNoLeak(() => tidy(() => {
    const w = randn([3, 3], { requiresGrad: true });
    for (let i = 0; i < 3; i++) {
      w.matmul(w).sum().backward();
      w.grad;  // a new handle each call
    }
  }));
});

test('assertNoLeak reports a leak with the count', () => {
  let leaked!: Tensor;
  assert.throws(() => assertNoLeak(() => { leaked = zeros([1]); }, 'leaky'), /leaky leaked 1 tensor\(s\)/);
  leaked.dispose();
});
