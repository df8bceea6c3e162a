// CUDA checks: run where the addon was built against a CUDA libtorch and a GPU is present
// (skipped, with the reason printed, on CPU-only machines such as CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cudaAvailable, randn, randint, tidy, noGrad, F, liveTensors, manualSeed, synchronize } from '.';
import { Linear, Sequential, ReLU, Conv2d, BatchNorm2d, AdaptiveAvgPool2d, Flatten } from '../nn';

const skip = cudaAvailable() ? false : 'no CUDA device in this build/machine';

function close(a: Float64Array, b: Float64Array, tol = 1e-4): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `element ${i}: ${a[i]} vs ${b[i]}`);
}

test('cuda ops and gradients match the CPU', { skip }, () => {
  const live = liveTensors();
  tidy(() => {
    const x = randn([8, 3, 16, 16]);
    const w = randn([4, 3, 3, 3]);
    const xc = x.cuda().requiresGrad_(), wc = w.cuda().requiresGrad_();
    x.requiresGrad = true; w.requiresGrad = true;
    const y = F.conv2d(x, w, null, { padding: 1 }).relu().mean([2, 3]);
    const yc = F.conv2d(xc, wc, null, { padding: 1 }).relu().mean([2, 3]);
    assert.equal(yc.device, 'cuda:0');
    close(yc.cpu().toFloat64Array(), y.toFloat64Array());
    const t = randint(0, 4, [8]);
    F.cross_entropy(y, t).backward();
    F.cross_entropy(yc, t.cuda()).backward();
    close(wc.grad!.cpu().toFloat64Array(), w.grad!.toFloat64Array(), 1e-3);
    const a = randn([64, 128]), b = randn([128, 32]);
    close(a.cuda().matmul(b.cuda()).cpu().toFloat64Array(), a.matmul(b).toFloat64Array(), 1e-3);
  });
  synchronize();
  assert.equal(liveTensors(), live);
});

test('a module moves to cuda and trains there', { skip }, () => {
  manualSeed(0);
  const m = new Sequential(new Conv2d(3, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(8, 5)).to('cuda');
  for (const p of m.parameters()) assert.equal(p.device, 'cuda:0');
  const x = randn([16, 3, 8, 8]).cuda().keep(), y = randint(0, 5, [16]).cuda().keep();
  const losses: number[] = [];
  for (let i = 0; i < 30; i++) losses.push(tidy(() => {
    m.zeroGrad();
    const l = F.cross_entropy(m.call(x), y);
    l.backward();
    noGrad(() => { for (const p of m.parameters()) p.add_(p.grad!, -0.1); });
    return l.item();
  }));
  assert.ok(losses[29] < losses[0] * 0.8, `loss ${losses[0]} -> ${losses[29]}`);
  x.dispose(); y.dispose(); m.dispose();
});

test('an invalid cuda device is a JS error, not a crash', { skip }, () => {
  assert.throws(() => randn([2], { device: 'cuda:97' }), /device|ordinal|CUDA/i);
});
