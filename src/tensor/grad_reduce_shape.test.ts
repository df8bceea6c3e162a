// Gradient checks (float64) for reductions, shape and indexing ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, Generator, randn, rand, tensor, tidy, cat, stack, where, F } from './index';
import { gradcheck } from './gradcheck';
import { assertNoLeak } from './testing';

const gen = new Generator(11);
const rn = (shape: number[]) => randn(shape, { dtype: 'float64', generator: gen });
const ru = (shape: number[], lo: number, hi: number) => rand(shape, { dtype: 'float64', generator: gen }).mul(hi - lo).add(lo);
const away = (shape: number[], m = 0.2) => tidy(() => { const x = rn(shape); return x.add(x.sign().mul(m)); });
const i64 = (data: any) => tensor(data, { dtype: 'int64' });

function check(name: string, fn: (...xs: Tensor[]) => Tensor, make: () => Tensor[], opts?: Parameters<typeof gradcheck>[2]): void {
  test(`gradcheck ${name}`, () => {
    assertNoLeak(() => tidy(() => { assert.equal(gradcheck(fn, make(), opts), true); }), name);
  });
}

// ---- reductions ------------------------------------------------------------------------------
check('sum all', (a) => a.sum(), () => [rn([3, 4])]);
check('sum dim', (a) => a.sum(1), () => [rn([3, 4])]);
check('sum dims keepdim', (a) => a.sum([0, 2], true), () => [rn([2, 3, 2])]);
check('mean all', (a) => a.mean(), () => [rn([3, 4])]);
check('mean dim', (a) => a.mean(-1, true), () => [rn([3, 4])]);
check('var unbiased', (a) => a.var(), () => [rn([3, 4])]);
check('var dim population', (a) => a.var(1, { unbiased: false }), () => [rn([3, 4])]);
check('var dims keepdim correction 1', (a) => a.var([0, 1], { correction: 1, keepdim: true }), () => [rn([2, 3, 2])]);
check('std', (a) => a.std(), () => [rn([3, 4])]);
check('std dim population', (a) => a.std(0, { correction: 0 }), () => [rn([3, 4])]);
check('max along dim (values)', (a) => a.max(1).values, () => [rn([3, 5])]);
check('max along dim keepdim', (a) => a.max(0, true).values, () => [rn([3, 5])]);
check('min along dim (values)', (a) => a.min(-1).values, () => [rn([3, 5])]);
check('max/min over everything', (a) => a.max().add(a.min()), () => [rn([3, 5])]);
check('amax', (a) => a.amax(1), () => [rn([3, 5])]);
check('amax dims', (a) => a.amax([0, 2], true), () => [rn([2, 3, 2])]);
check('amin', (a) => a.amin(0), () => [rn([3, 5])]);
check('logsumexp', (a) => a.logsumexp(1), () => [rn([3, 5])]);
check('logsumexp dims keepdim', (a) => a.logsumexp([0, 1], true), () => [rn([3, 5])]);
check('norm 2 all', (a) => a.norm(), () => [rn([3, 4])]);
check('norm 2 dim', (a) => a.norm(2, 1), () => [rn([3, 4])]);
check('norm 1 dim keepdim', (a) => a.norm(1, 0, true), () => [away([3, 4])]);
check('norm 3', (a) => a.norm(3, -1), () => [away([3, 4])]);
check('prod all', (a) => a.prod(), () => [ru([2, 3], 0.5, 1.5)]);
check('prod dim (with negatives)', (a) => a.prod(1), () => [away([3, 4])]);
check('prod dim keepdim', (a) => a.prod(0, true), () => [away([3, 4])]);
check('cumsum', (a) => a.cumsum(1), () => [rn([3, 4])]);
check('cumsum dim 0', (a) => a.cumsum(0), () => [rn([3, 4])]);
check('sort values', (a) => a.sort(1).values, () => [rn([3, 5])]);
check('topk values', (a) => a.topk(2, 1).values, () => [rn([3, 5])]);

// ---- shape ------------------------------------------------------------------------------------
check('reshape', (a) => a.reshape(4, 3).mul(tensor([1, 2, 3], { dtype: 'float64' })), () => [rn([2, 6])]);
check('reshape -1', (a) => a.reshape([-1]), () => [rn([2, 3])]);
check('view', (a) => a.view(3, 2).exp(), () => [rn([2, 3])]);
check('permute', (a) => a.permute(2, 0, 1).contiguous(), () => [rn([2, 3, 4])]);
check('transpose', (a) => a.transpose(0, 2), () => [rn([2, 3, 4])]);
check('t', (a) => a.t(), () => [rn([2, 3])]);
check('flatten', (a) => a.flatten(1), () => [rn([2, 3, 2])]);
check('flatten range', (a) => a.flatten(0, 1), () => [rn([2, 3, 2])]);
check('squeeze', (a) => a.squeeze(), () => [rn([1, 3, 1, 2])]);
check('squeeze dim', (a) => a.squeeze(2), () => [rn([1, 3, 1, 2])]);
check('unsqueeze', (a) => a.unsqueeze(1).mul(tensor([[1], [2]], { dtype: 'float64' })), () => [rn([2, 3])]);
check('expand', (a) => a.expand(4, 3, 2), () => [rn([3, 1])]);
check('expand -1', (a) => a.expand(-1, 5), () => [rn([3, 1])]);
check('expandAs', (a, b) => a.expandAs(b).mul(b), () => [rn([1, 3]), rn([2, 3])]);
check('repeat', (a) => a.repeat(2, 3), () => [rn([2, 2])]);
check('repeat adds dims', (a) => a.repeat(2, 1, 2), () => [rn([2, 2])]);
check('narrow', (a) => a.narrow(1, 1, 2), () => [rn([3, 4])]);
check('slice', (a) => a.slice(1, 1, 4), () => [rn([3, 5])]);
check('slice step and negative start', (a) => a.slice(0, -4, null, 2), () => [rn([5, 2])]);
check('select', (a) => a.select(1, 2), () => [rn([3, 4])]);
check('select negative index', (a) => a.select(0, -1), () => [rn([3, 4])]);
check('indexSelect (duplicate indices accumulate)', (a, i) => a.indexSelect(1, i), () => [rn([3, 4]), i64([0, 3, 3, 1])]);
check('index (integer tensor)', (a, i) => a.index(i), () => [rn([4, 2]), i64([3, 0, 3])]);
check('index (boolean mask)', (a, m) => a.index(m), () => [rn([4, 2]), tensor([true, false, true, true])]);
check('gather', (a, i) => a.gather(1, i), () => [rn([3, 4]), i64([[0, 0], [3, 1], [2, 2]])]);
check('scatter (self and src)', (a, i, s) => a.scatter(1, i, s), () => [rn([3, 4]), i64([[0, 2], [3, 1], [1, 0]]), rn([3, 2])]);
check('scatter scalar value', (a, i) => a.scatter(0, i, 0.5), () => [rn([3, 4]), i64([[0, 2, 1, 0]])]);
check('scatterAdd', (a, i, s) => a.scatterAdd(1, i, s), () => [rn([3, 4]), i64([[0, 0], [3, 1], [2, 2]]), rn([3, 2])]);
check('maskedFill', (a, m) => a.maskedFill(m, -1.5), () => [rn([3, 4]), rn([3, 4]).gt(0)]);
check('maskedFill broadcast mask', (a, m) => a.maskedFill(m, 2), () => [rn([3, 4]), tensor([true, false, false, true])]);
check('where', (c, a, b) => where(c, a, b), () => [rn([3, 4]).gt(0), rn([3, 4]), rn([4])]);
check('where with scalar', (c, a) => where(c, a, 0).add(where(c, 1, a)), () => [rn([3, 4]).gt(0), rn([3, 4])]);
check('cat', (a, b, c) => cat([a, b, c], 1), () => [rn([2, 1]), rn([2, 3]), rn([2, 2])]);
check('cat dim 0', (a, b) => cat([a, b]), () => [rn([1, 3]), rn([2, 3])]);
check('stack', (a, b) => stack([a, b], 1), () => [rn([2, 3]), rn([2, 3])]);
check('split by size', (a) => { const ps = a.split(2, 1); return cat(ps.map((p, i) => p.mul(i + 1)), 1); }, () => [rn([2, 5])]);
check('split by sections', (a) => { const ps = a.split([1, 3], 0); return cat([ps[1].exp(), ps[0].sin()], 0); }, () => [rn([4, 2])]);
check('chunk', (a) => { const ps = a.chunk(3, 1); return cat(ps.map((p, i) => p.mul(i - 1.5)), 1); }, () => [rn([2, 7])]);
check('pad constant', (a) => F.pad(a, [1, 2, 0, 1], 'constant', 0.5), () => [rn([1, 2, 3, 3])]);
check('pad constant negative (crop)', (a) => F.pad(a, [-1, 1]), () => [rn([2, 4])]);
check('pad reflect 2d', (a) => F.pad(a, [2, 1, 1, 2], 'reflect'), () => [rn([1, 2, 3, 4])]);
check('pad reflect 1d', (a) => F.pad(a, [2, 1], 'reflect'), () => [rn([1, 2, 4])]);
check('pad replicate 2d', (a) => F.pad(a, [1, 2, 2, 1], 'replicate'), () => [rn([1, 2, 3, 3])]);
check('pad replicate 1d', (a) => F.pad(a, [0, 3], 'replicate'), () => [rn([1, 2, 3])]);
check('Tensor.unfold (overlapping windows)', (a) => a.unfold(1, 3, 1), () => [rn([2, 5])]);
check('Tensor.unfold (step > 1)', (a) => a.unfold(0, 2, 2), () => [rn([5, 3])]);
check('F.unfold', (a) => F.unfold(a, 2, { stride: 1, padding: 1 }), () => [rn([1, 2, 3, 3])]);
check('F.unfold dilation and stride', (a) => F.unfold(a, [2, 3], { dilation: [1, 2], stride: 2 }), () => [rn([2, 1, 4, 6])]);
check('F.fold', (a) => F.fold(a, [3, 3], 2, { stride: 1 }), () => [rn([1, 8, 4])]);
check('F.fold overlapping with padding', (a) => F.fold(a, [4, 4], 3, { padding: 1, stride: 1 }), () => [rn([1, 9, 16])]);
check('roll', (a) => a.roll(2, 1), () => [rn([2, 5])]);
check('roll multiple dims', (a) => a.roll([1, -1], [0, 1]), () => [rn([3, 4])]);
check('flip', (a) => a.flip([0, 1]), () => [rn([3, 4])]);
check('tril', (a) => a.tril(), () => [rn([4, 4])]);
check('tril diagonal -1', (a) => a.tril(-1), () => [rn([3, 4])]);
check('triu', (a) => a.triu(1), () => [rn([4, 3])]);
