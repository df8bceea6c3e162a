// Gradient checks (float64, central differences) for the elementwise ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, Generator, randn, rand, tensor, tidy, F } from './index';
import { gradcheck } from './gradcheck';
import { assertNoLeak } from './testing';

const gen = new Generator(7);
const rn = (shape: number[]) => randn(shape, { dtype: 'float64', generator: gen });
/** values in (lo, hi) */
const ru = (shape: number[], lo: number, hi: number) => rand(shape, { dtype: 'float64', generator: gen }).mul(hi - lo).add(lo);
/** standard normal values pushed at least `m` away from 0 (for ops with a kink or pole at 0) */
const away = (shape: number[], m = 0.2) => tidy(() => { const x = rn(shape); return x.add(x.sign().mul(m)); });

function check(name: string, fn: (...xs: Tensor[]) => Tensor, make: () => Tensor[], opts?: Parameters<typeof gradcheck>[2]): void {
  test(`gradcheck ${name}`, () => {
    assertNoLeak(() => tidy(() => { assert.equal(gradcheck(fn, make(), opts), true); }), name);
  });
}

// binary, tensor–tensor (with broadcasting) and tensor–scalar
check('add', (a, b) => a.add(b), () => [rn([3, 4]), rn([4])]);
check('add alpha', (a, b) => a.add(b, 2.5), () => [rn([2, 3]), rn([2, 3])]);
check('add scalar', (a) => a.add(1.5), () => [rn([5])]);
check('sub', (a, b) => a.sub(b), () => [rn([3, 1]), rn([1, 4])]);
check('sub alpha', (a, b) => a.sub(b, 0.5), () => [rn([2, 3]), rn([3])]);
check('rsub', (a) => a.rsub(2), () => [rn([4])]);
check('mul', (a, b) => a.mul(b), () => [rn([2, 3]), rn([2, 1])]);
check('mul scalar', (a) => a.mul(-3), () => [rn([2, 3])]);
check('div', (a, b) => a.div(b), () => [rn([2, 3]), away([3], 0.5)]);
check('div scalar', (a) => a.div(4), () => [rn([3])]);
check('rdiv', (a) => a.rdiv(2), () => [away([4], 0.5)]);
check('pow tensor exponent', (a, b) => a.pow(b), () => [ru([2, 3], 0.5, 2), rn([2, 3])]);
check('pow scalar exponent', (a) => a.pow(3), () => [rn([5])]);
check('pow fractional exponent', (a) => a.pow(1.5), () => [ru([5], 0.3, 2)]);
check('minimum', (a, b) => a.minimum(b), () => [rn([3, 4]), rn([3, 4])]);
check('maximum', (a, b) => a.maximum(b), () => [rn([3, 4]), rn([4])]);
check('F-level minimum/maximum with scalar', (a) => a.minimum(0.3).add(a.maximum(-0.3)), () => [away([6], 0.1)]);
check('atan2', (a, b) => a.atan2(b), () => [away([3, 3]), away([3, 3])]);
check('xlogy', (a, b) => a.xlogy(b), () => [rn([3, 3]), ru([3, 3], 0.2, 3)]);
check('xlogy scalar', (a) => a.xlogy(2.5), () => [rn([4])]);
check('remainder (wrt self)', (a) => a.remainder(1.5), () => [ru([5], 0.1, 1.4)]);
check('fmod (wrt self)', (a) => a.fmod(2), () => [ru([5], 0.1, 1.9)]);

// unary
check('neg', (a) => a.neg(), () => [rn([3, 2])]);
check('abs', (a) => a.abs(), () => [away([3, 2])]);
check('exp', (a) => a.exp(), () => [rn([3, 2])]);
check('log', (a) => a.log(), () => [ru([3, 2], 0.2, 3)]);
check('log2', (a) => a.log2(), () => [ru([3, 2], 0.2, 3)]);
check('sqrt', (a) => a.sqrt(), () => [ru([3, 2], 0.2, 3)]);
check('rsqrt', (a) => a.rsqrt(), () => [ru([3, 2], 0.2, 3)]);
check('sigmoid', (a) => a.sigmoid(), () => [rn([3, 2])]);
check('tanh', (a) => a.tanh(), () => [rn([3, 2])]);
check('relu', (a) => a.relu(), () => [away([3, 2])]);
check('gelu (erf)', (a) => a.gelu(), () => [rn([3, 2])]);
check('gelu (tanh)', (a) => a.gelu('tanh'), () => [rn([3, 2])]);
check('F.gelu both modes', (a) => F.gelu(a).add(F.gelu(a, { approximate: 'tanh' }).mul(2)), () => [rn([4])]);
check('silu', (a) => a.silu(), () => [rn([3, 2])]);
check('sin', (a) => a.sin(), () => [rn([3, 2])]);
check('cos', (a) => a.cos(), () => [rn([3, 2])]);
check('reciprocal', (a) => a.reciprocal(), () => [away([3, 2], 0.4)]);
check('log1p', (a) => a.log1p(), () => [ru([3, 2], -0.5, 2)]);
check('expm1', (a) => a.expm1(), () => [rn([3, 2])]);
check('erf', (a) => a.erf(), () => [rn([3, 2])]);
check('square', (a) => a.square(), () => [rn([3, 2])]);
check('clamp', (a) => a.clamp(-0.5, 0.5), () => [rn([4, 4])]);
check('clamp min only / max only', (a) => a.clampMin(-0.2).add(a.clampMax(0.3)), () => [rn([8])]);
check('contiguous/clone', (a) => a.t().contiguous().clone(), () => [rn([2, 3])]);
check('to float32 and back', (a) => a.to('float32').to('float64'), () => [rn([3])], { eps: 1e-2, atol: 1e-4 });
check('composite expression', (a, b) => a.mul(b).exp().add(b.sin()).div(a.square().add(1)), () => [rn([3]), rn([3])]);

test('gradcheck elementwise ops: non-differentiable ops (floor, sign, round) give zero gradients', () => {
  assertNoLeak(() => tidy(() => {
    const x = tensor([0.3, 1.7, -2.2], { dtype: 'float64', requiresGrad: true });
    x.floor().add(x.sign()).add(x.round()).add(x.ceil()).add(x.trunc()).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [0, 0, 0]);
  }));
});
