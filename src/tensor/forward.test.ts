// Forward values against numbers computed by hand (or by a naive JS reference) in the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor, tensor, arange, linspace, eye, zeros, ones, full, rand, randn, randint, randperm, Generator, manualSeed,
  getRngState, setRngState, tidy, cat, stack, where, einsum, matmul, F,
} from './index';
import { assertClose, assertNoLeak } from './testing';

const f64 = (data: any) => tensor(data, { dtype: 'float64' });
const i64 = (data: any) => tensor(data, { dtype: 'int64' });
const t = (name: string, fn: () => void) => test(name, () => assertNoLeak(() => tidy(fn), name));
const lse = (xs: number[]) => { const m = Math.max(...xs); return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0)); };
const logSoftmax = (xs: number[]) => { const l = lse(xs); return xs.map((x) => x - l); };
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

// ---- elementwise and activations ---------------------------------------------------------------
t('softmax and log_softmax of [1, 2, 3]', () => {
  const e = [1, 2, 3].map(Math.exp), s = sum(e);
  assertClose(F.softmax(f64([1, 2, 3]), 0), e.map((x) => x / s), { atol: 1e-12 });
  assertClose(F.log_softmax(f64([1, 2, 3]), 0), e.map((x) => Math.log(x / s)), { atol: 1e-12 });
  // rows sum to one, along the requested dim; shift invariance
  assertClose(F.softmax(f64([[1, 2], [3, 4]]), 0), [[1 / (1 + Math.E ** 2), 1 / (1 + Math.E ** 2)], [Math.E ** 2 / (1 + Math.E ** 2), Math.E ** 2 / (1 + Math.E ** 2)]], { atol: 1e-12 });
  assertClose(F.softmax(f64([1001, 1002, 1003]), -1), e.map((x) => x / s), { atol: 1e-12 });
  assert.equal(F.softmax(tensor([1, 2]), 0, { dtype: 'float64' }).dtype, 'float64');
});

t('activation values', () => {
  const x = f64([-2, -0.5, 0, 1, 3]);
  const xs = [-2, -0.5, 0, 1, 3];
  const erf = (v: number) => { // Abramowitz-Stegun is too coarse; use the series for small |v|
    let s = 0, term = v, n = 0;
    while (Math.abs(term) > 1e-17 * Math.abs(s) || n < 5) { s += term / (2 * n + 1); n++; term *= -v * v / n; if (n > 200) break; }
    return (2 / Math.sqrt(Math.PI)) * s;
  };
  assertClose(x.relu(), [0, 0, 0, 1, 3]);
  assertClose(x.sigmoid(), xs.map((v) => 1 / (1 + Math.exp(-v))), { atol: 1e-12 });
  assertClose(x.gelu(), xs.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))), { atol: 1e-12 });
  assertClose(x.gelu('tanh'), xs.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))), { atol: 1e-12 });
  assertClose(f64([1]).gelu(), [0.8413447460685429], { atol: 1e-12 });
  assertClose(x.silu(), xs.map((v) => v / (1 + Math.exp(-v))), { atol: 1e-12 });
  assertClose(F.leaky_relu(x, 0.1), xs.map((v) => (v > 0 ? v : 0.1 * v)), { atol: 1e-12 });
  assertClose(F.elu(x, 0.5), xs.map((v) => (v > 0 ? v : 0.5 * (Math.exp(v) - 1))), { atol: 1e-12 });
  assertClose(F.softplus(x), xs.map((v) => Math.log1p(Math.exp(v))), { atol: 1e-12 });
  assertClose(F.hardswish(x), xs.map((v) => v * Math.min(Math.max(v + 3, 0), 6) / 6), { atol: 1e-12 });
  assertClose(F.hardsigmoid(x), xs.map((v) => Math.min(Math.max(v / 6 + 0.5, 0), 1)), { atol: 1e-12 });
  assertClose(F.mish(x), xs.map((v) => v * Math.tanh(Math.log1p(Math.exp(v)))), { atol: 1e-12 });
  assertClose(F.hardtanh(x, -1, 2), xs.map((v) => Math.min(Math.max(v, -1), 2)));
  assertClose(F.relu6(f64([-1, 3, 7])), [0, 3, 6]);
  assertClose(F.logsigmoid(x), xs.map((v) => -Math.log1p(Math.exp(-v))), { atol: 1e-12 });
  assertClose(x.clamp(-1, 1), [-1, -0.5, 0, 1, 1]);
  assertClose(f64([2, 0.5]).xlogy(f64([3, 0])), [2 * Math.log(3), -Infinity]);
  assertClose(f64([0]).xlogy(f64([0])), [0]);
  assertClose(f64([1, -1]).atan2(f64([-1, -1])), [Math.atan2(1, -1), Math.atan2(-1, -1)]);
  assertClose(f64([-7, 7]).remainder(3), [2, 1]);
  assertClose(f64([-7, 7]).fmod(3), [-1, 1]);
  assertClose(f64([1, 2]).rsub(5), [4, 3]);
  assertClose(f64([1, 4]).rdiv(2), [2, 0.5]);
  assertClose(f64([4, 9]).rsqrt(), [0.5, 1 / 3]);
});

t('integer arithmetic keeps integer dtypes, as torch', () => {
  const a = i64([1, 2, 3]);
  assert.equal(a.add(1).dtype, 'int64');
  assert.deepEqual(a.mul(2).toArray(), [2, 4, 6]);
  assert.equal(a.mul(0.5).dtype, 'float32');
  assert.equal(a.div(2).dtype, 'float32');  // true division
  assert.deepEqual(a.div(2).toArray(), [0.5, 1, 1.5]);
  assert.deepEqual(a.floorDivide(2).toArray(), [0, 1, 1]);
  assert.equal(a.gt(1).dtype, 'bool');
  assert.deepEqual(a.gt(1).toArray(), [false, true, true]);
  assert.equal(tensor([1, 2], { dtype: 'int32' }).add(i64([1, 1])).dtype, 'int64');
  assert.equal(tensor([1, 2]).add(f64([1, 1])).dtype, 'float64');
});

// ---- reductions -----------------------------------------------------------------------------------
t('var and std: unbiased (default) vs population', () => {
  const x = f64([1, 2, 3, 4]);
  assertClose(x.var(), 5 / 3);
  assertClose(x.var(null, { unbiased: false }), 1.25);
  assertClose(x.var(0, { correction: 0 }), 1.25);
  assertClose(x.std(), Math.sqrt(5 / 3));
  assertClose(x.std(null, { unbiased: false }), Math.sqrt(1.25));
  const m = f64([[1, 2], [3, 5]]);
  assertClose(m.var(0), [2, 4.5]);
  assertClose(m.var(1, { keepdim: true, unbiased: false }), [[0.25], [1]]);
});

t('sum, mean, prod, norm, logsumexp, amax/amin, max/min with indices, argmax/argmin, cumsum', () => {
  const m = f64([[1, 5, 2], [7, 0, 3]]);
  assertClose(m.sum(), 18);
  assertClose(m.sum(0), [8, 5, 5]);
  assertClose(m.sum(1, true), [[8], [10]]);
  assert.equal(i64([1, 2]).sum().dtype, 'int64');
  assert.equal(tensor([1, 2]).sum(null, false, 'float64').dtype, 'float64');
  assertClose(m.mean(), 3);
  assertClose(m.mean([0, 1]), 3);
  assertClose(m.mean(1), [8 / 3, 10 / 3]);
  assertClose(f64([[1, 2], [3, 4]]).prod(), 24);
  assertClose(f64([[1, 2], [3, 4]]).prod(1), [2, 12]);
  assertClose(f64([3, -4]).norm(), 5);
  assertClose(f64([3, -4]).norm(1), 7);
  assertClose(f64([[3, 4], [6, 8]]).norm(2, 1), [5, 10]);
  assertClose(f64([1, 2, 3]).norm(Infinity), 3);
  assertClose(m.logsumexp(1), [lse([1, 5, 2]), lse([7, 0, 3])], { atol: 1e-12 });
  assertClose(m.amax(0), [7, 5, 3]);
  assertClose(m.amin(1), [1, 0]);
  assertClose(m.amax([0, 1]), 7);
  assertClose(m.max(), 7);
  assertClose(m.min(), 0);
  const mx = m.max(1);
  assertClose(mx.values, [5, 7]);
  assert.deepEqual(mx.indices.toArray(), [1, 0]);
  assert.equal(mx.indices.dtype, 'int64');
  const mn = m.min(0, true);
  assertClose(mn.values, [[1, 0, 2]]);
  assert.deepEqual(mn.indices.toArray(), [[0, 1, 0]]);
  assert.deepEqual(m.argmax(1).toArray(), [1, 0]);
  assert.equal(m.argmax().item(), 3);  // over the flattened tensor
  assert.deepEqual(m.argmin(0).toArray(), [0, 1, 0]);
  assert.deepEqual(m.argmax(1, true).shape, [2, 1]);
  assertClose(f64([1, 2, 3, 4]).cumsum(0), [1, 3, 6, 10]);
  assertClose(m.cumsum(0), [[1, 5, 2], [8, 5, 5]]);
  assertClose(m.cumsum(-1), [[1, 6, 8], [7, 7, 10]]);
  assert.deepEqual(i64([1, 2, 3]).cumsum(0).toArray(), [1, 3, 6]);
  assert.equal(tensor([true, false, true]).all().item(), false);
  assert.equal(tensor([true, false, true]).any().item(), true);
});

t('topk and sort: values and indices', () => {
  const x = f64([3, 1, 4, 1, 5, 9, 2, 6]);
  const k = x.topk(3);
  assertClose(k.values, [9, 6, 5]);
  assert.deepEqual(k.indices.toArray(), [5, 7, 4]);
  const s = x.topk(2, -1, false);
  assertClose(s.values, [1, 1]);
  assert.deepEqual(s.indices.toArray().sort(), [1, 3]);
  const a = x.sort(0, false, true);
  assertClose(a.values, [1, 1, 2, 3, 4, 5, 6, 9]);
  assert.deepEqual(a.indices.toArray(), [1, 3, 6, 0, 2, 4, 7, 5]);
  const d = x.sort(-1, true, true);
  assertClose(d.values, [9, 6, 5, 4, 3, 2, 1, 1]);
  assert.deepEqual(d.indices.toArray(), [5, 7, 4, 2, 0, 6, 1, 3]);
  const m = f64([[3, 1, 2], [0, 5, 4]]);
  assert.deepEqual(m.sort(1).indices.toArray(), [[1, 2, 0], [0, 2, 1]]);
  assert.deepEqual(m.topk(1, 0).indices.toArray(), [[0, 1, 1]]);
});

// ---- creation contents ------------------------------------------------------------------------------
t('arange, linspace, eye: contents and dtypes', () => {
  assert.equal(arange(5).dtype, 'int64');
  assert.deepEqual(arange(5).toArray(), [0, 1, 2, 3, 4]);
  assert.deepEqual(arange(2, 9, 3).toArray(), [2, 5, 8]);
  assert.deepEqual(arange(5, 0, -2).toArray(), [5, 3, 1]);
  assert.equal(arange(1, 2, 0.25).dtype, 'float32');
  assert.deepEqual(arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
  assert.equal(arange(3, undefined, 1, { dtype: 'float64' }).dtype, 'float64');
  assert.deepEqual(arange(0).shape, [0]);
  assert.throws(() => arange(0, 1, 0), /step must be non-zero/);
  assert.equal(linspace(0, 1, 5).dtype, 'float32');
  assert.deepEqual(linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
  assertClose(linspace(-1, 1, 3, { dtype: 'float64' }), [-1, 0, 1]);
  assert.equal(linspace(-1, 1, 3, { dtype: 'float64' }).dtype, 'float64');
  assert.deepEqual(linspace(2, 2, 1).toArray(), [2]);
  assert.equal(eye(3).dtype, 'float32');
  assert.deepEqual(eye(3).toArray(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.deepEqual(eye(2, 3, { dtype: 'int64' }).toArray(), [[1, 0, 0], [0, 1, 0]]);
  assert.equal(eye(2, 3, { dtype: 'int64' }).dtype, 'int64');
  assert.deepEqual(full([2, 2], 7).toArray(), [[7, 7], [7, 7]]);
  assert.equal(full([1], true).dtype, 'bool');
  assert.deepEqual(zeros([0, 3]).shape, [0, 3]);
});

t('one_hot', () => {
  const o = F.one_hot(i64([0, 2, 1]), 4);
  assert.equal(o.dtype, 'int64');
  assert.deepEqual(o.toArray(), [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]);
  assert.deepEqual(F.one_hot(i64([[1], [0]])).toArray(), [[[0, 1]], [[1, 0]]]);  // classes inferred as max + 1
});

// ---- randomness ---------------------------------------------------------------------------------------
t('randperm: a permutation, reproducible with Generator(seed) and manualSeed', () => {
  const p = randperm(50, { generator: new Generator(3) });
  assert.equal(p.dtype, 'int64');
  assert.deepEqual([...p.toArray()].sort((a: number, b: number) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(randperm(50, { generator: new Generator(3) }).toArray(), p.toArray());
  assert.notDeepEqual(randperm(50, { generator: new Generator(4) }).toArray(), p.toArray());
  const g = new Generator(9);
  const a1 = randperm(20, { generator: g }).toArray(), a2 = randperm(20, { generator: g }).toArray();
  assert.notDeepEqual(a1, a2, 'a generator advances');
  manualSeed(123);
  const b1 = randperm(30).toArray(), b2 = randn([3]).toArray();
  manualSeed(123);
  assert.deepEqual(randperm(30).toArray(), b1);
  assert.deepEqual(randn([3]).toArray(), b2);
  // a private generator is independent of the global seed
  manualSeed(1);
  const c1 = rand([4], { generator: new Generator(5) }).toArray();
  manualSeed(2);
  assert.deepEqual(rand([4], { generator: new Generator(5) }).toArray(), c1);
  assert.deepEqual(randperm(0).shape, [0]);
  assert.throws(() => new Generator(-1), /non-negative integer/);
  assert.throws(() => manualSeed(1.5), /non-negative integer/);
});

t('generator and global RNG state round-trip', () => {
  const g = new Generator(77);
  const st = g.getState();
  const x1 = randn([5], { generator: g }).toArray();
  g.setState(st);
  assert.deepEqual(randn([5], { generator: g }).toArray(), x1);
  const gs = getRngState();
  assert.equal(gs.dtype, 'uint8');
  const y1 = rand([5]).toArray();
  setRngState(gs);
  assert.deepEqual(rand([5]).toArray(), y1);
});

t('rand in [0, 1), randn moments, randint range', () => {
  const g = new Generator(2024);
  const u = rand([20000], { generator: g });
  assert.ok(u.min().item() >= 0);
  assert.ok(u.max().item() < 1);
  assert.ok(Math.abs(u.mean().item() - 0.5) < 0.01);
  assert.equal(rand([2], { dtype: 'float64' }).dtype, 'float64');
  const n = randn([20000], { generator: g, dtype: 'float64' });
  assert.ok(Math.abs(n.mean().item()) < 0.03);
  assert.ok(Math.abs(n.std().item() - 1) < 0.03);
  const r = randint(-3, 4, [5000], { generator: g });
  assert.equal(r.dtype, 'int64');
  assert.equal(r.min().item(), -3);
  assert.equal(r.max().item(), 3);  // high is exclusive; every value in range shows up in 5000 draws
  const counts = new Set(r.toArray());
  assert.equal(counts.size, 7);
  assert.equal(randint(0, 2, [3], { dtype: 'int32' }).dtype, 'int32');
});

// ---- shape and indexing values ----------------------------------------------------------------------------
t('indexing and shape op values', () => {
  const x = f64([[1, 2, 3], [4, 5, 6]]);
  assertClose(x.gather(1, i64([[2, 0], [1, 1]])), [[3, 1], [5, 5]]);
  assertClose(zeros([2, 3], { dtype: 'float64' }).scatter(1, i64([[2], [0]]), f64([[7], [8]])), [[0, 0, 7], [8, 0, 0]]);
  assertClose(zeros([3], { dtype: 'float64' }).scatterAdd(0, i64([0, 2, 0]), f64([1, 2, 3])), [4, 0, 2]);
  assertClose(x.maskedFill(tensor([true, false, true]), -1), [[-1, 2, -1], [-1, 5, -1]]);
  assertClose(where(x.gt(3), x, f64(0)), [[0, 0, 0], [4, 5, 6]]);
  assertClose(where(tensor([true, false]), 1, 2).to('float64'), [1, 2]);
  assertClose(x.indexSelect(1, i64([2, 2, 0])), [[3, 3, 1], [6, 6, 4]]);
  assertClose(x.index(i64([1, 0, 1])), [[4, 5, 6], [1, 2, 3], [4, 5, 6]]);
  assertClose(x.index(tensor([false, true])), [[4, 5, 6]]);
  assertClose(x.select(1, -1), [3, 6]);
  assertClose(x.narrow(1, 1, 2), [[2, 3], [5, 6]]);
  assertClose(arange(10).slice(0, 1, 8, 3).to('float64'), [1, 4, 7]);
  assertClose(arange(10).slice(0, -3).to('float64'), [7, 8, 9]);
  assertClose(x.t(), [[1, 4], [2, 5], [3, 6]]);
  assertClose(x.permute(1, 0).reshape(-1), [1, 4, 2, 5, 3, 6]);
  assertClose(x.flip(1), [[3, 2, 1], [6, 5, 4]]);
  assertClose(f64([1, 2, 3, 4, 5]).roll(2, 0), [4, 5, 1, 2, 3]);
  assertClose(x.roll(-1, 1), [[2, 3, 1], [5, 6, 4]]);
  assertClose(ones([3, 3], { dtype: 'float64' }).tril(), [[1, 0, 0], [1, 1, 0], [1, 1, 1]]);
  assertClose(ones([2, 3], { dtype: 'float64' }).triu(1), [[0, 1, 1], [0, 0, 1]]);
  assertClose(f64([1, 2, 3, 4, 5]).unfold(0, 2, 2), [[1, 2], [3, 4]]);
  assertClose(f64([1, 2, 3, 4]).unfold(0, 3, 1), [[1, 2, 3], [2, 3, 4]]);
  assertClose(cat([f64([[1]]), f64([[2, 3]])], 1), [[1, 2, 3]]);
  assertClose(stack([f64([1, 2]), f64([3, 4])], 1), [[1, 3], [2, 4]]);
  const parts = arange(7).split(3);
  assert.deepEqual(parts.map((p) => p.toArray()), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.deepEqual(arange(7).split([2, 5]).map((p) => p.shape[0]), [2, 5]);
  assert.deepEqual(arange(7).chunk(3).map((p) => p.toArray()), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.deepEqual(f64([[1], [2]]).expand(2, 3).toArray(), [[1, 1, 1], [2, 2, 2]]);
  assert.deepEqual(f64([1, 2]).repeat(2, 2).toArray(), [[1, 2, 1, 2], [1, 2, 1, 2]]);
  assert.deepEqual(zeros([1, 3, 1]).squeeze().shape, [3]);
  assert.deepEqual(zeros([1, 3, 1]).squeeze(0).shape, [3, 1]);
  assert.deepEqual(zeros([3]).unsqueeze(-1).shape, [3, 1]);
  assert.deepEqual(zeros([2, 3, 4]).flatten(1).shape, [2, 12]);
  assert.deepEqual(zeros([2, 3, 4]).transpose(0, 2).shape, [4, 3, 2]);
  // views share storage; reshape of a transposed tensor copies
  const base = zeros([2, 3], { dtype: 'float64' });
  const v = base.view(6);
  v.add_(1);
  assert.deepEqual(base.toArray(), [[1, 1, 1], [1, 1, 1]]);
  assert.equal(base.t().isContiguous(), false);
  assert.deepEqual(base.t().strides(), [1, 3]);
});

t('pad constant / reflect / replicate values', () => {
  const x = f64([[[1, 2, 3, 4]]]);
  assertClose(F.pad(x, [2, 1], 'reflect'), [[[3, 2, 1, 2, 3, 4, 3]]]);
  assertClose(F.pad(x, [2, 1], 'replicate'), [[[1, 1, 1, 2, 3, 4, 4]]]);
  assertClose(F.pad(x, [1, 2], 'constant', 9), [[[9, 1, 2, 3, 4, 9, 9]]]);
  assertClose(F.pad(f64([[1, 2], [3, 4]]), [0, 0, 1, 0]), [[0, 0], [1, 2], [3, 4]]);
  const y = f64([[[[1, 2], [3, 4]]]]);
  assertClose(F.pad(y, [1, 1, 1, 1], 'replicate'), [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]);
  assertClose(F.pad(y, [1, 0, 0, 1], 'reflect'), [[[[2, 1, 2], [4, 3, 4], [2, 1, 2]]]]);
});

t('F.unfold / F.fold values', () => {
  const x = arange(1, 10).to('float64').reshape(1, 1, 3, 3);
  const cols = F.unfold(x, 2);
  assertClose(cols, [[[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]]);
  // fold sums overlapping patches: x times how many windows cover each pixel
  assertClose(F.fold(cols, [3, 3], 2), [[[[1, 4, 3], [8, 20, 12], [7, 16, 9]]]]);
  // non-overlapping windows: fold ∘ unfold is the identity
  const z = arange(16).to('float64').reshape(1, 1, 4, 4);
  assertClose(F.fold(F.unfold(z, 2, { stride: 2 }), [4, 4], 2, { stride: 2 }), z.toArray());
  assert.deepEqual(F.unfold(zeros([2, 3, 5, 5]), 3, { padding: 1, stride: 2 }).shape, [2, 27, 9]);
});

// ---- linear algebra ---------------------------------------------------------------------------------------
t('matmul / mm / bmm / outer / einsum / baddbmm / addmm values', () => {
  const a = f64([[1, 2], [3, 4]]), b = f64([[5, 6], [7, 8]]);
  assertClose(a.matmul(b), [[19, 22], [43, 50]]);
  assertClose(a.mm(b), [[19, 22], [43, 50]]);
  assertClose(matmul(a, f64([1, 1])), [3, 7]);
  assertClose(f64([1, 2]).matmul(f64([3, 4])), 11);
  assertClose(stack([a, b]).bmm(stack([b, a])), [[[19, 22], [43, 50]], [[23, 34], [31, 46]]]);
  assertClose(f64([1, 2]).outer(f64([3, 4, 5])), [[3, 4, 5], [6, 8, 10]]);
  assertClose(einsum('ij,jk->ik', a, b), [[19, 22], [43, 50]]);
  assertClose(einsum('ii', a), 5);
  assertClose(einsum('ii->i', a), [1, 4]);
  assertClose(einsum('ij->ji', a), [[1, 3], [2, 4]]);
  assertClose(einsum('bi,bi->b', a, b), [17, 53]);
  assertClose(einsum('i,j->ij', f64([1, 2]), f64([1, 10])), [[1, 10], [2, 20]]);
  assertClose(einsum('ij->', a), 10);
  // (beta·input + alpha·a@b)
  const { addmm, baddbmm } = require('./ops') as typeof import('./ops');
  assertClose(addmm(f64([1, 1]), a, b, { beta: 2, alpha: 0.5 }), [[11.5, 13], [23.5, 27]]);
  assertClose(baddbmm(f64([[[1]]]), a.unsqueeze(0), b.unsqueeze(0), { beta: -1, alpha: 1 }), [[[18, 21], [42, 49]]]);
});

// ---- nn functional values ------------------------------------------------------------------------------------
/** naive NCHW convolution for reference */
function convRef(x: number[][][][], w: number[][][][], bias: number[] | null, stride: number[], pad: number[], dil: number[], groups: number): number[][][][] {
  const N = x.length, C = x[0].length, H = x[0][0].length, W = x[0][0][0].length;
  const O = w.length, Cg = w[0].length, KH = w[0][0].length, KW = w[0][0][0].length;
  const OH = Math.floor((H + 2 * pad[0] - dil[0] * (KH - 1) - 1) / stride[0]) + 1;
  const OW = Math.floor((W + 2 * pad[1] - dil[1] * (KW - 1) - 1) / stride[1]) + 1;
  const Og = O / groups;
  assert.equal(Cg * groups, C);
  const out: number[][][][] = [];
  for (let n = 0; n < N; n++) {
    const on: number[][][] = [];
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      const oo: number[][] = [];
      for (let i = 0; i < OH; i++) {
        const row: number[] = [];
        for (let j = 0; j < OW; j++) {
          let s = bias ? bias[o] : 0;
          for (let c = 0; c < Cg; c++) for (let ki = 0; ki < KH; ki++) for (let kj = 0; kj < KW; kj++) {
            const yi = i * stride[0] - pad[0] + ki * dil[0], xj = j * stride[1] - pad[1] + kj * dil[1];
            if (yi >= 0 && yi < H && xj >= 0 && xj < W) s += w[o][c][ki][kj] * x[n][g * Cg + c][yi][xj];
          }
          row.push(s);
        }
        oo.push(row);
      }
      on.push(oo);
    }
    out.push(on);
  }
  return out;
}

t('conv2d: a tiny hand example', () => {
  const x = arange(1, 10).to('float64').reshape(1, 1, 3, 3);
  const w = f64([[[[1, 2], [3, 4]]]]);
  assertClose(F.conv2d(x, w), [[[[37, 47], [67, 77]]]]);
  assertClose(F.conv2d(x, w, f64([1])), [[[[38, 48], [68, 78]]]]);
  assertClose(F.conv2d(x, w, null, { stride: 2, padding: 1 }), [[[[4, 18], [36, 77]]]]);
  assertClose(F.conv1d(f64([[[1, 2, 3, 4]]]), f64([[[1, -1]]])), [[[-1, -1, -1]]]);
});

t('conv2d matches a naive reference with stride, padding, dilation and groups', () => {
  const g = new Generator(5);
  const cases: [number[], number[], number[], number[], number[], number][] = [
    // x shape, w shape, stride, padding, dilation, groups
    [[2, 4, 6, 5], [6, 2, 3, 2], [2, 1], [1, 2], [1, 2], 2],
    [[1, 3, 5, 5], [3, 1, 3, 3], [1, 1], [1, 1], [1, 1], 3],
    [[1, 2, 7, 7], [4, 2, 3, 3], [3, 2], [0, 1], [2, 1], 1],
  ];
  for (const [xs, ws, stride, padding, dilation, groups] of cases) {
    const x = randn(xs, { dtype: 'float64', generator: g }), w = randn(ws, { dtype: 'float64', generator: g });
    const b = randn([ws[0]], { dtype: 'float64', generator: g });
    const expected = convRef(x.toArray(), w.toArray(), b.toArray(), stride, padding, dilation, groups);
    assertClose(F.conv2d(x, w, b, { stride, padding, dilation, groups }), expected, { atol: 1e-10 });
  }
});

t('conv_transpose2d is the adjoint of conv2d', () => {
  // <conv2d(x, w), y> == <x, conv_transpose2d(y, w)>, for the same stride/padding
  const g = new Generator(8);
  const x = randn([1, 2, 5, 5], { dtype: 'float64', generator: g }), w = randn([3, 2, 3, 3], { dtype: 'float64', generator: g });
  const y = randn([1, 3, 3, 3], { dtype: 'float64', generator: g });
  const lhs = F.conv2d(x, w, null, { stride: 2, padding: 1 }).mul(y).sum().item();
  const rhs = x.mul(F.conv_transpose2d(y, w, null, { stride: 2, padding: 1 })).sum().item();
  assert.ok(Math.abs(lhs - rhs) < 1e-10, `${lhs} vs ${rhs}`);
  assert.deepEqual(F.conv_transpose2d(zeros([1, 3, 3, 3]), zeros([3, 2, 3, 3]), null, { stride: 2, padding: 1, output_padding: 1 }).shape, [1, 2, 6, 6]);
});

t('pooling values', () => {
  const x = arange(1, 17).to('float64').reshape(1, 1, 4, 4);
  assertClose(F.max_pool2d(x, 2), [[[[6, 8], [14, 16]]]]);
  assertClose(F.avg_pool2d(x, 2), [[[[3.5, 5.5], [11.5, 13.5]]]]);
  assertClose(F.max_pool2d(x, 3, { stride: 1 }), [[[[11, 12], [15, 16]]]]);
  assertClose(F.adaptive_avg_pool2d(x, 1), [[[[8.5]]]]);
  assertClose(F.adaptive_avg_pool2d(x, [1, 2]), [[[[7.5, 9.5]]]]);
  assertClose(F.adaptive_max_pool2d(x, 2), [[[[6, 8], [14, 16]]]]);
  // padding=1: corners average over 9 cells with zeros included, or only the real ones
  const y = ones([1, 1, 3, 3], { dtype: 'float64' });
  assertClose(F.avg_pool2d(y, 3, { stride: 1, padding: 1 }).select(3, 0).select(2, 0), [[4 / 9]]);
  assertClose(F.avg_pool2d(y, 3, { stride: 1, padding: 1, count_include_pad: false }).select(3, 0).select(2, 0), [[1]]);
  assert.deepEqual(F.max_pool2d(zeros([1, 1, 5, 5]), 2, { ceil_mode: true }).shape, [1, 1, 3, 3]);
});

t('batch_norm: eval uses running stats; training normalizes by batch stats and updates running stats (unbiased var)', () => {
  const x = f64([[1, 10], [3, 20], [5, 60]]);  // N=3, C=2
  const rm = f64([0.5, 1]), rv = f64([4, 9]);
  const w = f64([2, 1]), b = f64([0, 1]);
  const eps = 1e-5;
  const ev = F.batch_norm(x, rm, rv, { weight: w, bias: b, training: false, eps });
  assertClose(ev, [[2 * 0.5 / Math.sqrt(4 + eps), 9 / Math.sqrt(9 + eps) + 1], [2 * 2.5 / Math.sqrt(4 + eps), 19 / Math.sqrt(9 + eps) + 1], [2 * 4.5 / Math.sqrt(4 + eps), 59 / Math.sqrt(9 + eps) + 1]], { atol: 1e-9 });
  const tr = F.batch_norm(x, rm, rv, { weight: w, bias: b, training: true, momentum: 0.1, eps });
  const col0 = [1, 3, 5], col1 = [10, 20, 60];
  const mean = (c: number[]) => sum(c) / c.length;
  const pvar = (c: number[]) => sum(c.map((v) => (v - mean(c)) ** 2)) / c.length;
  const uvar = (c: number[]) => sum(c.map((v) => (v - mean(c)) ** 2)) / (c.length - 1);
  const exp = [0, 1, 2].map((i) => [2 * (col0[i] - 3) / Math.sqrt(pvar(col0) + eps), (col1[i] - 30) / Math.sqrt(pvar(col1) + eps) + 1]);
  assertClose(tr, exp, { atol: 1e-9 });
  assertClose(rm, [0.9 * 0.5 + 0.1 * 3, 0.9 * 1 + 0.1 * 30], { atol: 1e-12 });
  assertClose(rv, [0.9 * 4 + 0.1 * uvar(col0), 0.9 * 9 + 0.1 * uvar(col1)], { atol: 1e-12 });
});

t('layer_norm and group_norm values', () => {
  const x = f64([[1, 2, 3, 6]]);
  const m = 3, v = (4 + 1 + 0 + 9) / 4, eps = 1e-5;
  const n = [1, 2, 3, 6].map((a) => (a - m) / Math.sqrt(v + eps));
  assertClose(F.layer_norm(x, [4]), [n], { atol: 1e-9 });
  assertClose(F.layer_norm(x, [4], { weight: f64([1, 2, 1, 1]), bias: f64([0, 0, 1, 0]) }), [[n[0], 2 * n[1], n[2] + 1, n[3]]], { atol: 1e-9 });
  // group_norm with 2 groups of 2 channels on [1, 4, 1, 1]
  const g = F.group_norm(f64([1, 3, 10, 20]).reshape(1, 4, 1, 1), 2, { eps: 0 });
  assertClose(g.reshape(-1), [-1, 1, -1, 1], { atol: 1e-9 });
});

t('interpolate: nearest, bilinear with and without align_corners, bicubic at the samples', () => {
  const x = f64([[[[0, 1], [2, 3]]]]);
  assertClose(F.interpolate(x, { size: [4, 4] }), [[[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]]]);
  assertClose(F.interpolate(x, { scale_factor: 2, mode: 'nearest' }), F.interpolate(x, { size: 4 }).toArray());
  assertClose(F.interpolate(x, { size: [3, 3], mode: 'bilinear', align_corners: true }), [[[[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]]]]);
  // align_corners=false: source = (dst + 0.5)/scale - 0.5, clamped at 0 → [0, 0.25, 0.75, 1] along each axis
  const r = [0, 0.25, 0.75, 1];
  assertClose(F.interpolate(x, { size: [4, 4], mode: 'bilinear', align_corners: false }), [[r.map((i) => r.map((j) => 2 * i + j))]]);
  assertClose(F.interpolate(x, { size: [4, 4], mode: 'bilinear' }), [[r.map((i) => r.map((j) => 2 * i + j))]]);
  // bicubic with align_corners passes through the input samples
  const y = f64([[[[1, 5, 2], [0, -3, 4], [7, 2, 2]]]]);
  const up = F.interpolate(y, { size: [5, 5], mode: 'bicubic', align_corners: true });
  assertClose(up.slice(2, 0, null, 2).slice(3, 0, null, 2), y.toArray(), { atol: 1e-12 });
  assert.deepEqual(F.interpolate(zeros([1, 2, 3, 5]), { scale_factor: [2, 0.4], mode: 'bilinear' }).shape, [1, 2, 6, 2]);
  assert.throws(() => F.interpolate(x, { size: 4, align_corners: true }), /align_corners/);
  assert.throws(() => F.interpolate(x, {}), /size or scale_factor/);
});

t('normalize, cdist, cosine_similarity, embedding, linear', () => {
  assertClose(F.normalize(f64([[3, 4], [0, 0]])), [[0.6, 0.8], [0, 0]]);
  assertClose(F.normalize(f64([[1, 3]]), { p: 1, dim: 1 }), [[0.25, 0.75]]);
  assertClose(F.cdist(f64([[0, 0], [3, 4]]), f64([[0, 0], [0, 1]])), [[0, 1], [5, Math.sqrt(18)]], { atol: 1e-12 });
  assertClose(F.cdist(f64([[0, 0], [3, 4]]), f64([[0, 0]]), 1), [[0], [7]]);
  assertClose(F.cosine_similarity(f64([[1, 0], [1, 1]]), f64([[1, 1], [-1, -1]])), [Math.SQRT1_2, -1], { atol: 1e-12 });
  assertClose(F.embedding(i64([[2, 0]]), f64([[1, 2], [3, 4], [5, 6]])), [[[5, 6], [1, 2]]]);
  assertClose(F.linear(f64([[1, 2]]), f64([[1, 0], [1, 1], [0, 2]]), f64([0, 1, -1])), [[1, 4, 3]]);
});

t('cross_entropy: class indices, label smoothing, weights, ignore_index, probability targets (from the formulas)', () => {
  const X = [[1, 2, 3], [1, 0, -1], [0.5, 0.5, 2]];
  const T = [2, 0, 1];
  const x = f64(X), y = i64(T);
  const lp = X.map(logSoftmax);
  const C = 3;
  const nll = T.map((c, i) => -lp[i][c]);
  assertClose(F.cross_entropy(x, y), sum(nll) / 3, { atol: 1e-12 });
  assertClose(F.cross_entropy(x, y, { reduction: 'sum' }), sum(nll), { atol: 1e-12 });
  assertClose(F.cross_entropy(x, y, { reduction: 'none' }), nll, { atol: 1e-12 });
  // label smoothing ε: (1-ε)·nll + ε/C · Σ_c -log p_c
  const eps = 0.1;
  const smooth = lp.map((row) => -sum(row));
  assertClose(F.cross_entropy(x, y, { label_smoothing: eps }), sum(nll.map((n, i) => (1 - eps) * n + (eps / C) * smooth[i])) / 3, { atol: 1e-12 });
  // class weights: weighted mean divides by Σ w[target]
  const w = [0.2, 1, 3];
  const wsum = sum(T.map((c) => w[c]));
  assertClose(F.cross_entropy(x, y, { weight: f64(w) }), sum(T.map((c, i) => w[c] * nll[i])) / wsum, { atol: 1e-12 });
  // weights + smoothing (torch: the smoothing term is Σ_c w_c·(-log p_c), also divided by Σ w[target])
  const wsmooth = lp.map((row) => -sum(row.map((v, c) => w[c] * v)));
  assertClose(F.cross_entropy(x, y, { weight: f64(w), label_smoothing: eps }),
    (1 - eps) * sum(T.map((c, i) => w[c] * nll[i])) / wsum + (eps / C) * sum(wsmooth) / wsum, { atol: 1e-12 });
  // ignore_index: those samples neither count in the sum nor in the mean's denominator
  assertClose(F.cross_entropy(x, i64([2, -100, 1])), (nll[0] + nll[2]) / 2, { atol: 1e-12 });
  assertClose(F.cross_entropy(x, i64([2, 0, 0]), { ignore_index: 0 }), nll[0], { atol: 1e-12 });
  // probability targets: -Σ p·log q, averaged over the batch
  const P = [[0.2, 0.3, 0.5], [1, 0, 0], [0.1, 0.1, 0.8]];
  const soft = P.map((p, i) => -sum(p.map((v, c) => v * lp[i][c])));
  assertClose(F.cross_entropy(x, f64(P)), sum(soft) / 3, { atol: 1e-12 });
  const Ps = P.map((p) => p.map((v) => v * (1 - eps) + eps / C));
  assertClose(F.cross_entropy(x, f64(P), { label_smoothing: eps }), sum(Ps.map((p, i) => -sum(p.map((v, c) => v * lp[i][c])))) / 3, { atol: 1e-12 });
  // one-hot probabilities give the same loss as the indices
  assertClose(F.cross_entropy(x, F.one_hot(y, 3).to('float64')), sum(nll) / 3, { atol: 1e-12 });
  assertClose(F.nll_loss(F.log_softmax(x, 1), y), sum(nll) / 3, { atol: 1e-12 });
  assertClose(F.nll_loss(x, y, { reduction: 'none' }), T.map((c, i) => -X[i][c]));
  assert.throws(() => F.cross_entropy(x, y, { label_smoothing: 1.5 }), /label_smoothing must be in \[0, 1\]/);
});

t('kl_div: every reduction, batchmean, log_target', () => {
  const Q = [[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]];
  const LP = [[-1, -0.5], [-0.7, -0.7], [-0.1, -2.5]];
  const pw = Q.map((q, i) => q.map((v, c) => v * (Math.log(v) - LP[i][c])));
  const flat = pw.flat();
  const lp = f64(LP), q = f64(Q);
  assertClose(F.kl_div(lp, q, { reduction: 'none' }), pw, { atol: 1e-12 });
  assertClose(F.kl_div(lp, q, { reduction: 'sum' }), sum(flat), { atol: 1e-12 });
  assertClose(F.kl_div(lp, q), sum(flat) / 6, { atol: 1e-12 });
  assertClose(F.kl_div(lp, q, { reduction: 'batchmean' }), sum(flat) / 3, { atol: 1e-12 });
  assertClose(F.kl_div(lp, q.log(), { reduction: 'batchmean', log_target: true }), sum(flat) / 3, { atol: 1e-12 });
  assertClose(F.kl_div(lp, q.log(), { reduction: 'none', log_target: true }), pw, { atol: 1e-12 });
  // zero target probability contributes 0 (not NaN)
  assertClose(F.kl_div(f64([-1, -2]), f64([0, 1]), { reduction: 'sum' }), 2);
});

t('regression and binary losses', () => {
  const a = f64([1, 2, 5]), b = f64([1.5, 0, 5.2]);
  const d = [-0.5, 2, -0.2];
  assertClose(F.mse_loss(a, b), sum(d.map((v) => v * v)) / 3, { atol: 1e-12 });
  assertClose(F.mse_loss(a, b, { reduction: 'none' }), d.map((v) => v * v), { atol: 1e-12 });
  assertClose(F.l1_loss(a, b, { reduction: 'sum' }), 2.7, { atol: 1e-12 });
  const sl1 = (v: number, beta: number) => (Math.abs(v) < beta ? 0.5 * v * v / beta : Math.abs(v) - 0.5 * beta);
  assertClose(F.smooth_l1_loss(a, b), sum(d.map((v) => sl1(v, 1))) / 3, { atol: 1e-12 });
  assertClose(F.smooth_l1_loss(a, b, { beta: 0.3, reduction: 'none' }), d.map((v) => sl1(v, 0.3)), { atol: 1e-12 });
  const X = [0.3, -1.2, 2], Y = [1, 0, 0.25], W = [1, 2, 0.5], PW = [3, 1, 2];
  const sg = (v: number) => 1 / (1 + Math.exp(-v));
  const bce = X.map((v, i) => -W[i] * (PW[i] * Y[i] * Math.log(sg(v)) + (1 - Y[i]) * Math.log(1 - sg(v))));
  assertClose(F.binary_cross_entropy_with_logits(f64(X), f64(Y), { weight: f64(W), pos_weight: f64(PW), reduction: 'none' }), bce, { atol: 1e-12 });
  assertClose(F.binary_cross_entropy_with_logits(f64(X), f64(Y)), sum(X.map((v, i) => -(Y[i] * Math.log(sg(v)) + (1 - Y[i]) * Math.log(1 - sg(v))))) / 3, { atol: 1e-12 });
  assertClose(F.binary_cross_entropy(f64([0.8, 0.1]), f64([1, 0])), -(Math.log(0.8) + Math.log(0.9)) / 2, { atol: 1e-12 });
});

t('scaled_dot_product_attention: matches softmax(q kᵀ/√d) v, boolean mask, is_causal, additive mask', () => {
  const g = new Generator(31);
  const q = randn([2, 3, 4], { dtype: 'float64', generator: g }), k = randn([2, 5, 4], { dtype: 'float64', generator: g });
  const v = randn([2, 5, 2], { dtype: 'float64', generator: g });
  const scores = q.matmul(k.transpose(-2, -1)).div(2);
  assertClose(F.scaled_dot_product_attention(q, k, v), F.softmax(scores, -1).matmul(v).toArray(), { atol: 1e-12 });
  const add = randn([3, 5], { dtype: 'float64', generator: g });
  assertClose(F.scaled_dot_product_attention(q, k, v, { attn_mask: add }), F.softmax(scores.add(add), -1).matmul(v).toArray(), { atol: 1e-12 });
  // boolean mask: true = may attend
  const m = tensor([[true, false, true, false, false], [false, true, true, true, true], [true, true, true, true, false]]);
  assertClose(F.scaled_dot_product_attention(q, k, v, { attn_mask: m }), F.softmax(scores.maskedFill(m.logicalNot(), -Infinity), -1).matmul(v).toArray(), { atol: 1e-12 });
  // causal: query i attends keys 0..i; the first query sees only the first key
  const qs = q.slice(1, 0, 3), ks = k.slice(1, 0, 3), vs = v.slice(1, 0, 3);
  const causal = F.scaled_dot_product_attention(qs, ks, vs, { is_causal: true });
  assertClose(causal.select(1, 0), vs.select(1, 0).toArray(), { atol: 1e-12 });
  const tri = ones([3, 3], { dtype: 'bool' }).tril();
  assertClose(causal, F.softmax(qs.matmul(ks.transpose(-2, -1)).div(2).maskedFill(tri.logicalNot(), -Infinity), -1).matmul(vs).toArray(), { atol: 1e-12 });
  // dropout_p drops attention weights (reproducibly under a seed); p = 1 drops all of them
  manualSeed(3);
  const d1 = F.scaled_dot_product_attention(q, k, v, { dropout_p: 0.5 }).toArray();
  manualSeed(3);
  assertClose(F.scaled_dot_product_attention(q, k, v, { dropout_p: 0.5 }), d1);
  assert.notDeepEqual(d1, F.scaled_dot_product_attention(q, k, v).toArray());
  assertClose(F.scaled_dot_product_attention(q, k, v, { dropout_p: 1 }), zeros([2, 3, 2]).toArray());
});

// ---- misc ------------------------------------------------------------------------------------------------------
t('toString previews, item, to() conversions', () => {
  const x = f64([[1, 2], [3, 4.5]]);
  assert.match(String(x), /shape=\[2, 2\], dtype=float64/);
  assert.match(String(zeros([2000])), /…/);
  assert.equal(f64([3.5]).item(), 3.5);
  assert.equal(tensor(true).item(), true as unknown as number);
  assert.equal(x.to('float32').dtype, 'float32');
  assert.equal(x.to({ dtype: 'int64' }).dtype, 'int64');
  assert.deepEqual(f64([1.7, -1.7]).long().toArray(), [1, -1]);
  assert.equal(x.to('cpu').device, 'cpu');
  assert.equal(x.size(-1), 2);
  assert.deepEqual(x.size(), [2, 2]);
  assert.equal(x.numel(), 4);
  assert.equal(x.ndim, 2);
  assert.throws(() => x.size(2), /dimension out of range/);
});

void Tensor;
void randint;
