import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, autocast, bf16Supported, F, tidy } from '.';

test('autocast runs matmul-like ops in bfloat16 inside the scope and float32 outside', () => {
  tidy(() => {
    const x = randn([4, 8]), w = randn([3, 8]);
    const inside = autocast(() => F.linear(x, w));
    assert.equal(inside.dtype, 'bfloat16');
    assert.equal(F.linear(x, w).dtype, 'float32');
    // values agree with float32 to bfloat16's precision
    const a = inside.to('float32').toFloat64Array(), b = F.linear(x, w).toFloat64Array();
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 0.05 * (1 + Math.abs(b[i])), `${v} vs ${b[i]}`));
    // gradients flow back to float32 leaves
    const p = randn([3, 8], { requiresGrad: true });
    autocast(() => F.linear(x, p)).to('float32').sum().backward();
    assert.equal(p.grad!.dtype, 'float32');
  });
  assert.equal(typeof bf16Supported(), 'boolean');
});
