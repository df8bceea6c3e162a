// Gradient checks (float64) for linear algebra and torch.nn.functional counterparts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, Generator, randn, rand, tensor, zeros, ones, linspace, tidy, matmul, bmm, baddbmm, addmm, einsum, F, manualSeed } from './index';
import { gradcheck } from './gradcheck';
import { assertNoLeak, assertClose } from './testing';

const gen = new Generator(23);
const rn = (shape: number[]) => randn(shape, { dtype: 'float64', generator: gen });
const ru = (shape: number[], lo: number, hi: number) => rand(shape, { dtype: 'float64', generator: gen }).mul(hi - lo).add(lo);
const away = (shape: number[], m = 0.2) => tidy(() => { const x = rn(shape); return x.add(x.sign().mul(m)); });
const i64 = (data: any) => tensor(data, { dtype: 'int64' });
const f64 = (data: any) => tensor(data, { dtype: 'float64' });
/** rows of probabilities (softmax of random logits) */
const probs = (shape: number[]) => tidy(() => F.softmax(rn(shape), -1));

function check(name: string, fn: (...xs: Tensor[]) => Tensor, make: () => Tensor[], opts?: Parameters<typeof gradcheck>[2]): void {
  test(`gradcheck ${name}`, () => {
    assertNoLeak(() => tidy(() => { assert.equal(gradcheck(fn, make(), opts), true); }), name);
  });
}

// ---- linear algebra ---------------------------------------------------------------------------
check('matmul 2d', (a, b) => a.matmul(b), () => [rn([2, 3]), rn([3, 4])]);
check('matmul batched broadcast', (a, b) => matmul(a, b), () => [rn([2, 1, 2, 3]), rn([3, 3, 2])]);
check('matmul vector-matrix and matrix-vector', (a, b, v) => a.matmul(v).sum().add(v.matmul(b)), () => [rn([2, 3]), rn([3, 2]), rn([3])]);
check('matmul vector-vector', (a, b) => a.matmul(b), () => [rn([4]), rn([4])]);
check('mm', (a, b) => a.mm(b), () => [rn([3, 2]), rn([2, 4])]);
check('bmm', (a, b) => bmm(a, b), () => [rn([2, 2, 3]), rn([2, 3, 2])]);
check('baddbmm', (c, a, b) => baddbmm(c, a, b), () => [rn([2, 2, 2]), rn([2, 2, 3]), rn([2, 3, 2])]);
check('baddbmm beta alpha broadcast input', (c, a, b) => baddbmm(c, a, b, { beta: 0.5, alpha: -2 }), () => [rn([1, 2]), rn([2, 2, 3]), rn([2, 3, 2])]);
check('addmm', (c, a, b) => addmm(c, a, b), () => [rn([2, 4]), rn([2, 3]), rn([3, 4])]);
check('addmm beta alpha broadcast input', (c, a, b) => addmm(c, a, b, { beta: 2, alpha: 0.5 }), () => [rn([4]), rn([2, 3]), rn([3, 4])]);
check('einsum matmul', (a, b) => einsum('ij,jk->ik', a, b), () => [rn([2, 3]), rn([3, 2])]);
check('einsum batched attention-like', (a, b) => einsum('bhid,bhjd->bhij', a, b), () => [rn([1, 2, 3, 2]), rn([1, 2, 2, 2])]);
check('einsum trace, diagonal, outer', (a, v) => einsum('ii', a).add(einsum('ii->i', a).sum()).add(einsum('i,j->ij', v, v).sum()), () => [rn([3, 3]), rn([2])]);
check('einsum reduction and transpose', (a) => einsum('ijk->kj', a), () => [rn([2, 3, 2])]);
check('outer', (a, b) => a.outer(b), () => [rn([3]), rn([4])]);

// ---- layers -------------------------------------------------------------------------------------
check('linear with bias', (x, w, b) => F.linear(x, w, b), () => [rn([2, 3]), rn([4, 3]), rn([4])]);
check('linear without bias, 3-d input', (x, w) => F.linear(x, w), () => [rn([2, 2, 3]), rn([2, 3])]);
check('conv1d', (x, w, b) => F.conv1d(x, w, b), () => [rn([2, 2, 6]), rn([3, 2, 3]), rn([3])]);
check('conv1d stride padding dilation groups', (x, w) => F.conv1d(x, w, null, { stride: 2, padding: 1, dilation: 2, groups: 2 }), () => [rn([1, 4, 7]), rn([2, 2, 2])]);
check('conv2d', (x, w, b) => F.conv2d(x, w, b), () => [rn([1, 2, 4, 4]), rn([3, 2, 3, 3]), rn([3])]);
check('conv2d stride and padding', (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), () => [rn([2, 2, 5, 5]), rn([2, 2, 3, 3]), rn([2])]);
check('conv2d asymmetric stride/padding and dilation', (x, w) => F.conv2d(x, w, null, { stride: [1, 2], padding: [2, 1], dilation: [2, 1] }), () => [rn([1, 1, 5, 6]), rn([2, 1, 3, 2])]);
check('conv2d groups', (x, w, b) => F.conv2d(x, w, b, { groups: 2, padding: 1 }), () => [rn([1, 4, 3, 3]), rn([4, 2, 2, 2]), rn([4])]);
check('conv2d depthwise', (x, w) => F.conv2d(x, w, null, { groups: 3 }), () => [rn([1, 3, 4, 4]), rn([3, 1, 3, 3])]);
check("conv2d padding 'same'", (x, w) => F.conv2d(x, w, null, { padding: 'same' }), () => [rn([1, 2, 4, 4]), rn([2, 2, 3, 3])]);
check('conv_transpose2d', (x, w, b) => F.conv_transpose2d(x, w, b), () => [rn([1, 2, 3, 3]), rn([2, 3, 2, 2]), rn([3])]);
check('conv_transpose2d stride padding output_padding', (x, w) => F.conv_transpose2d(x, w, null, { stride: 2, padding: 1, output_padding: 1 }), () => [rn([1, 2, 3, 3]), rn([2, 1, 3, 3])]);
check('conv_transpose2d groups dilation', (x, w) => F.conv_transpose2d(x, w, null, { groups: 2, dilation: 2 }), () => [rn([1, 4, 3, 3]), rn([4, 1, 2, 2])]);
check('max_pool2d', (x) => F.max_pool2d(x, 2), () => [rn([1, 2, 4, 4])]);
check('max_pool2d stride padding', (x) => F.max_pool2d(x, 3, { stride: 2, padding: 1 }), () => [rn([1, 1, 5, 5])]);
check('max_pool2d dilation ceil_mode', (x) => F.max_pool2d(x, 2, { stride: 2, dilation: 2, ceil_mode: true }), () => [rn([1, 1, 6, 6])]);
check('avg_pool2d', (x) => F.avg_pool2d(x, 2), () => [rn([1, 2, 4, 4])]);
check('avg_pool2d padding count_include_pad false', (x) => F.avg_pool2d(x, 3, { stride: 2, padding: 1, count_include_pad: false }), () => [rn([1, 1, 5, 5])]);
check('avg_pool2d ceil_mode divisor_override', (x) => F.avg_pool2d(x, 2, { ceil_mode: true, divisor_override: 3 }), () => [rn([1, 1, 5, 5])]);
check('adaptive_avg_pool2d', (x) => F.adaptive_avg_pool2d(x, [2, 3]), () => [rn([1, 2, 5, 4])]);
check('adaptive_avg_pool2d to 1x1', (x) => F.adaptive_avg_pool2d(x, 1), () => [rn([2, 2, 3, 3])]);
check('adaptive_max_pool2d', (x) => F.adaptive_max_pool2d(x, 2), () => [rn([1, 2, 5, 5])]);
check('batch_norm training (input, weight, bias)', (x, w, b) => F.batch_norm(x, null, null, { weight: w, bias: b, training: true }), () => [rn([3, 2, 2, 2]), rn([2]), rn([2])]);
check('batch_norm training with running stats, 2-d input', (x, w, b) => F.batch_norm(x, zeros([3], { dtype: 'float64' }), ones([3], { dtype: 'float64' }), { weight: w, bias: b, training: true }), () => [rn([4, 3]), rn([3]), rn([3])]);
check('batch_norm eval', (x, w, b) => F.batch_norm(x, f64([0.5, -0.2]), f64([1.5, 0.7]), { weight: w, bias: b, training: false }), () => [rn([2, 2, 3]), rn([2]), rn([2])]);
check('batch_norm eval without affine', (x) => F.batch_norm(x, f64([0.5, -0.2]), f64([1.5, 0.7])), () => [rn([2, 2, 3])]);
check('layer_norm', (x, w, b) => F.layer_norm(x, [4], { weight: w, bias: b }), () => [rn([2, 3, 4]), rn([4]), rn([4])]);
check('layer_norm over two dims without affine', (x) => F.layer_norm(x, [3, 4]), () => [rn([2, 3, 4])]);
check('group_norm', (x, w, b) => F.group_norm(x, 2, { weight: w, bias: b }), () => [rn([2, 4, 2, 2]), rn([4]), rn([4])]);
check('dropout p=0 (identity)', (x) => F.dropout(x, 0), () => [rn([3, 4])]);
check('dropout training=false (identity)', (x) => F.dropout(x, 0.5, false), () => [rn([3, 4])]);
check('softmax', (x) => F.softmax(x, 1), () => [rn([3, 4])]);
check('softmax dim 0', (x) => F.softmax(x, 0), () => [rn([3, 4])]);
check('log_softmax', (x) => F.log_softmax(x, -1), () => [rn([3, 4])]);
check('interpolate nearest', (x) => F.interpolate(x, { size: [5, 3] }), () => [rn([1, 2, 3, 2])]);
check('interpolate nearest scale_factor', (x) => F.interpolate(x, { scale_factor: 2, mode: 'nearest' }), () => [rn([1, 1, 2, 3])]);
check('interpolate bilinear', (x) => F.interpolate(x, { size: [4, 5], mode: 'bilinear' }), () => [rn([1, 2, 3, 3])]);
check('interpolate bilinear align_corners', (x) => F.interpolate(x, { size: [5, 4], mode: 'bilinear', align_corners: true }), () => [rn([1, 1, 3, 3])]);
check('interpolate bilinear downsample', (x) => F.interpolate(x, { scale_factor: 0.5, mode: 'bilinear' }), () => [rn([1, 1, 4, 4])]);
check('interpolate bicubic', (x) => F.interpolate(x, { size: [5, 5], mode: 'bicubic' }), () => [rn([1, 1, 3, 3])]);
check('interpolate bicubic align_corners', (x) => F.interpolate(x, { size: [4, 6], mode: 'bicubic', align_corners: true }), () => [rn([1, 2, 3, 3])]);
check('normalize', (x) => F.normalize(x), () => [rn([3, 4])]);
check('normalize p=1 dim=-1', (x) => F.normalize(x, { p: 1, dim: -1 }), () => [away([3, 4])]);
check('cdist p=2', (a, b) => F.cdist(a, b), () => [rn([3, 2]), rn([4, 2])]);
check('cdist p=1 batched', (a, b) => F.cdist(a, b, 1), () => [rn([2, 3, 2]), rn([2, 2, 2])]);
check('cosine_similarity', (a, b) => F.cosine_similarity(a, b), () => [rn([3, 4]), rn([3, 4])]);
check('cosine_similarity dim -1 broadcast', (a, b) => F.cosine_similarity(a, b, -1), () => [rn([2, 3, 4]), rn([3, 4])]);
check('embedding', (i, w) => F.embedding(i, w), () => [i64([[0, 2], [2, 3]]), rn([4, 3])]);
test('embedding padding_idx: forward looks the row up, backward leaves that row without gradient (by design)', () => {
  assertNoLeak(() => tidy(() => {
    const w = rn([4, 3]);
    w.requiresGrad = true;
    const out = F.embedding(i64([1, 0, 1, 3]), w, 1);
    assertClose(out.select(0, 0), w.select(0, 1).toArray());
    out.mul(f64([1, 2, 3])).sum().backward();
    assertClose(w.grad!, [[1, 2, 3], [0, 0, 0], [0, 0, 0], [1, 2, 3]]);
  }));
});

// ---- activations ----------------------------------------------------------------------------------
check('leaky_relu', (x) => F.leaky_relu(x, 0.1), () => [away([3, 4])]);
check('leaky_relu default slope', (x) => F.leaky_relu(x), () => [away([6])]);
check('hardtanh', (x) => F.hardtanh(x), () => [away([8]).mul(0.8)]);
check('hardtanh custom range', (x) => F.hardtanh(x, -0.5, 2), () => [ru([8], -1.4, 3)]);
check('elu', (x) => F.elu(x), () => [away([3, 4])]);
check('elu alpha', (x) => F.elu(x, 0.5), () => [away([3, 4])]);
check('softplus', (x) => F.softplus(x), () => [rn([3, 4])]);
check('hardswish', (x) => F.hardswish(x), () => [ru([12], -4, 4)]);
check('hardsigmoid', (x) => F.hardsigmoid(x), () => [ru([12], -2.9, 2.9)]);
check('relu6', (x) => F.relu6(x), () => [ru([12], -2, 5.9)]);
check('mish', (x) => F.mish(x), () => [rn([3, 4])]);
check('logsigmoid', (x) => F.logsigmoid(x), () => [rn([3, 4])]);
check('F.relu / F.silu / F.sigmoid / F.tanh', (x) => F.relu(x).add(F.silu(x)).add(F.sigmoid(x)).add(F.tanh(x)), () => [away([6])]);

// ---- losses ---------------------------------------------------------------------------------------
check('cross_entropy class indices', (x, t) => F.cross_entropy(x, t), () => [rn([4, 3]), i64([0, 2, 1, 2])]);
check('cross_entropy reductions sum/none', (x, t) => F.cross_entropy(x, t, { reduction: 'sum' }).add(F.cross_entropy(x, t, { reduction: 'none' }).mul(f64([1, 2, 3, 4])).sum()), () => [rn([4, 3]), i64([0, 2, 1, 2])]);
check('cross_entropy label_smoothing', (x, t) => F.cross_entropy(x, t, { label_smoothing: 0.2 }), () => [rn([4, 3]), i64([0, 2, 1, 1])]);
check('cross_entropy probability targets', (x, p) => F.cross_entropy(x, p), () => [rn([3, 4]), probs([3, 4])]);
check('cross_entropy probability targets with label_smoothing', (x, p) => F.cross_entropy(x, p, { label_smoothing: 0.1 }), () => [rn([3, 4]), probs([3, 4])]);
check('cross_entropy weight', (x, t) => F.cross_entropy(x, t, { weight: f64([0.2, 1, 3]) }), () => [rn([4, 3]), i64([0, 2, 1, 2])]);
check('cross_entropy weight and label_smoothing', (x, t) => F.cross_entropy(x, t, { weight: f64([0.2, 1, 3]), label_smoothing: 0.3 }), () => [rn([4, 3]), i64([0, 2, 1, 2])]);
check('cross_entropy ignore_index', (x, t) => F.cross_entropy(x, t, { ignore_index: 1 }), () => [rn([4, 3]), i64([0, 1, 1, 2])]);
check('cross_entropy spatial (N,C,H,W)', (x, t) => F.cross_entropy(x, t), () => [rn([2, 3, 2, 2]), i64([[[0, 1], [2, 2]], [[1, 0], [0, 2]]])]);
check('cross_entropy single sample (C) with 0-d target', (x, t) => F.cross_entropy(x, t), () => [rn([4]), i64(2)]);
check('nll_loss', (x, t) => F.nll_loss(x, t), () => [rn([4, 3]), i64([0, 2, 1, 2])]);
check('nll_loss weight ignore_index sum', (x, t) => F.nll_loss(x, t, { weight: f64([1, 2, 0.5]), ignore_index: 0, reduction: 'sum' }), () => [rn([4, 3]), i64([0, 2, 1, 2])]);
for (const reduction of ['mean', 'sum', 'none', 'batchmean'] as const) {
  check(`kl_div reduction=${reduction}`, (lp, q) => F.kl_div(lp, q, { reduction }), () => [tidy(() => F.log_softmax(rn([3, 4]), -1)), probs([3, 4])]);
  check(`kl_div reduction=${reduction} log_target`, (lp, lq) => F.kl_div(lp, lq, { reduction, log_target: true }), () => [tidy(() => F.log_softmax(rn([3, 4]), -1)), tidy(() => F.log_softmax(rn([3, 4]), -1))]);
}
check('mse_loss', (a, b) => F.mse_loss(a, b), () => [rn([3, 4]), rn([3, 4])]);
check('mse_loss sum/none', (a, b) => F.mse_loss(a, b, { reduction: 'sum' }).add(F.mse_loss(a, b, { reduction: 'none' }).sum().mul(0.5)), () => [rn([3, 4]), rn([3, 4])]);
check('l1_loss', (a, b) => F.l1_loss(a, b), () => [rn([3, 4]), rn([3, 4])]);
check('l1_loss none', (a, b) => F.l1_loss(a, b, { reduction: 'none' }), () => [rn([3, 4]), rn([3, 4])]);
check('smooth_l1_loss', (a, b) => F.smooth_l1_loss(a, b), () => [rn([3, 4]).mul(2), rn([3, 4])]);
check('smooth_l1_loss beta 0.5 sum', (a, b) => F.smooth_l1_loss(a, b, { beta: 0.5, reduction: 'sum' }), () => [rn([3, 4]), rn([3, 4])]);
check('binary_cross_entropy_with_logits', (x, t) => F.binary_cross_entropy_with_logits(x, t), () => [rn([3, 4]), ru([3, 4], 0, 1)]);
check('binary_cross_entropy_with_logits weight pos_weight none', (x, t) => F.binary_cross_entropy_with_logits(x, t, { weight: f64([1, 2, 0.5, 1]), pos_weight: f64([3, 1, 1, 0.5]), reduction: 'none' }), () => [rn([3, 4]), ru([3, 4], 0, 1)]);
check('binary_cross_entropy (wrt input)', (p, t) => F.binary_cross_entropy(p, t), () => [ru([3, 4], 0.1, 0.9), ru([3, 4], 0, 1)], { wrt: [0] });

// ---- attention ------------------------------------------------------------------------------------
check('scaled_dot_product_attention', (q, k, v) => F.scaled_dot_product_attention(q, k, v), () => [rn([1, 2, 3, 4]), rn([1, 2, 5, 4]), rn([1, 2, 5, 4])]);
check('scaled_dot_product_attention additive float mask', (q, k, v, m) => F.scaled_dot_product_attention(q, k, v, { attn_mask: m }), () => [rn([1, 2, 3, 4]), rn([1, 2, 3, 4]), rn([1, 2, 3, 4]), rn([3, 3])]);
check('scaled_dot_product_attention boolean mask', (q, k, v, m) => F.scaled_dot_product_attention(q, k, v, { attn_mask: m }), () => [rn([1, 3, 4]), rn([1, 3, 4]), rn([1, 3, 4]), tensor([[true, false, true], [true, true, false], [false, true, true]])]);
check('scaled_dot_product_attention is_causal', (q, k, v) => F.scaled_dot_product_attention(q, k, v, { is_causal: true }), () => [rn([1, 2, 3, 4]), rn([1, 2, 3, 4]), rn([1, 2, 3, 4])]);

// ---- dropout with p > 0 ---------------------------------------------------------------------------
test('dropout p=0.25: kept entries scaled by 1/(1-p), dropped ones zero, gradient is the same mask; reproducible under manualSeed', () => {
  assertNoLeak(() => tidy(() => {
    const p = 0.25;
    const run = () => {
      const x = linspace(0.5, 1.5, 2000, { dtype: 'float64', requiresGrad: true });
      manualSeed(42);
      const y = F.dropout(x, p);
      y.sum().backward();
      return { x: x.toFloat64Array(), y: y.toFloat64Array(), g: x.grad!.toFloat64Array() };
    };
    const a = run();
    let zerosN = 0;
    for (let i = 0; i < a.x.length; i++) {
      if (a.y[i] === 0) {
        zerosN++;
        assert.equal(a.g[i], 0);
      } else {
        assert.ok(Math.abs(a.y[i] - a.x[i] / (1 - p)) < 1e-12, `element ${i}: ${a.y[i]} != ${a.x[i]} / (1 - p)`);
        assert.ok(Math.abs(a.g[i] - 1 / (1 - p)) < 1e-12);
      }
    }
    const rate = zerosN / a.x.length;
    assert.ok(Math.abs(rate - p) < 0.05, `drop rate ${rate} far from p=${p}`);
    const b = run();
    assert.deepEqual(Array.from(b.y), Array.from(a.y), 'same seed, same mask');
    // p = 1 drops everything
    assertClose(F.dropout(ones([5], { dtype: 'float64' }), 1), [0, 0, 0, 0, 0]);
    assert.throws(() => F.dropout(ones([2]), 1.5), /between 0 and 1/);
  }));
});
