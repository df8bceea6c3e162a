import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, tidy, F, manualSeed, noGrad } from '../../tensor';
import { Involution2d } from './involution';

test('Involution2d: official names and shapes (mmcv ConvModule), groups = C/16', () => {
  const inv = new Involution2d(32, 3);
  const shapes = Object.fromEntries([...inv.stateDict()].map(([k, t]) => [k, t.shape]));
  assert.deepEqual(shapes, {
    'conv1.conv.weight': [8, 32, 1, 1],
    'conv1.bn.weight': [8], 'conv1.bn.bias': [8],
    'conv2.conv.weight': [18, 8, 1, 1], 'conv2.conv.bias': [18],
    'conv1.bn.running_mean': [8], 'conv1.bn.running_var': [8], 'conv1.bn.num_batches_tracked': [],
  });
  assert.equal(inv.groups, 2);
  assert.equal(inv.numParameters(), 8 * 32 + 16 + 18 * 8 + 18);
  inv.dispose();
  const inv7 = new Involution2d(64, 7, { stride: 2 });
  assert.deepEqual(inv7.stateDict().get('conv2.conv.weight')!.shape, [49 * 4, 16, 1, 1]);
  assert.ok(inv7.getSubmodule('avgpool'));
  inv7.dispose();
  assert.throws(() => new Involution2d(24, 3), /multiple of groupChannels/);
  assert.throws(() => new Involution2d(32, 4), /odd/);
});

/** The operator written out with loops: out[b, g·gc + c, y, x] = Σ_k w[b, g, k, y, x] · xpad[b, g·gc + c, y·s + ky, x·s + kx]. */
function naive(x: number[][][][], w: number[][][][][], K: number, stride: number, gc: number): number[][][][] {
  const B = x.length, C = x[0].length, H = x[0][0].length, W = x[0][0][0].length, p = (K - 1) / 2;
  const Ho = w[0][0][0].length, Wo = w[0][0][0][0].length;
  const out: number[][][][] = [];
  for (let b = 0; b < B; b++) {
    out.push([]);
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / gc);
      const plane: number[][] = [];
      for (let yo = 0; yo < Ho; yo++) {
        const row: number[] = [];
        for (let xo = 0; xo < Wo; xo++) {
          let s = 0;
          for (let ky = 0; ky < K; ky++) for (let kx = 0; kx < K; kx++) {
            const yi = yo * stride + ky - p, xi = xo * stride + kx - p;
            if (yi < 0 || yi >= H || xi < 0 || xi >= W) continue;
            s += w[b][g][ky * K + kx][yo][xo] * x[b][c][yi][xi];
          }
          row.push(s);
        }
        plane.push(row);
      }
      out[b].push(plane);
    }
  }
  return out;
}

for (const [C, K, stride, gc, H] of [[16, 3, 1, 16, 6], [32, 3, 2, 16, 6], [32, 5, 1, 8, 5], [16, 7, 2, 16, 8]] as const) {
  test(`Involution2d(${C}, K=${K}, stride ${stride}, groupChannels ${gc}) equals the loop definition on ${H}×${H}`, () => {
    manualSeed(7);
    const inv = new Involution2d(C, K, { stride, groupChannels: gc });
    tidy(() => {
      // non-trivial BN statistics, eval mode
      noGrad(() => {
        const sd = inv.stateDict();
        sd.get('conv1.bn.running_mean')!.copy_(randn([C / 4]).mul(0.1));
        sd.get('conv1.bn.running_var')!.copy_(randn([C / 4]).abs().add(0.5));
      });
      inv.eval();
      const x = randn([2, C, H, H]);
      const out = inv.forward(x);
      // the kernel generator written with functional ops
      const sd = inv.stateDict();
      const xin = stride > 1 ? F.avg_pool2d(x, stride, { stride }) : x;
      let k = F.conv2d(xin, sd.get('conv1.conv.weight')!);
      k = F.relu(F.batch_norm(k, sd.get('conv1.bn.running_mean')!, sd.get('conv1.bn.running_var')!, { weight: sd.get('conv1.bn.weight'), bias: sd.get('conv1.bn.bias') }));
      k = F.conv2d(k, sd.get('conv2.conv.weight')!, sd.get('conv2.conv.bias'));
      const Ho = Math.floor(H / stride);
      assert.deepEqual(out.shape, [2, C, Ho, Ho]);
      const w = k.view(2, C / gc, K * K, Ho, Ho).toArray();
      const want = naive(x.toArray(), w, K, stride, gc).flat(3);
      const got = Array.from(out.toFloat64Array());
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4 * (1 + Math.abs(want[i])), `element ${i}: ${got[i]} vs ${want[i]}`);
    });
    inv.dispose();
  });
}

test('Involution2d: gradients reach the input and every parameter; mismatched sizes are reported', () => {
  const inv = new Involution2d(16, 3, { stride: 2 });
  tidy(() => {
    const x = randn([2, 16, 8, 8], { requiresGrad: true });
    inv.forward(x).square().sum().backward();
    assert.ok(x.grad && x.grad.abs().sum().item() > 0);
    for (const [n, p] of inv.namedParameters()) assert.ok(p.grad, `no grad for ${n}`);
    assert.throws(() => inv.forward(randn([1, 16, 7, 7])), /disagree/);
    assert.throws(() => inv.forward(randn([1, 8, 8, 8])), /expected input \[N, 16, H, W\]/);
  });
  inv.dispose();
});
