// Transformer layers: Attention against a hand-written float64 reference, Mlp, PatchEmbed, Block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, randn, tidy, F, einsum, manualSeed } from '../../tensor';
import { assertNoLeak, assertThrowsMessage } from '../../tensor/testing';
import { Attention, Block, LayerScale } from './attention';
import { Mlp } from './mlp';
import { PatchEmbed } from './patch_embed';

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tidy(() => a.sub(b).abs().max().item());
}

test('Attention: equals softmax(q kᵀ / √d) v per head, with timm parameter names', () => {
  manualSeed(1);
  const attn = new Attention(12, { numHeads: 3, qkvBias: true }).to('float64');
  assert.deepEqual([...attn.stateDict().keys()], ['qkv.weight', 'qkv.bias', 'proj.weight', 'proj.bias']);
  assert.deepEqual(attn.qkv.weight.shape, [36, 12]);
  assert.equal(attn.scale, 0.5);
  assertNoLeak(() => tidy(() => {
    const x = randn([2, 5, 12], { dtype: 'float64' });
    const got = attn.call(x);
    // reference: the packed rows of qkv.weight are [q | k | v], heads side by side within each
    const qkv = F.linear(x, attn.qkv.weight, attn.qkv.bias);          // [2, 5, 36]
    const heads = (i: number) => qkv.narrow(2, i * 12, 12).reshape(2, 5, 3, 4).permute(0, 2, 1, 3); // [2, 3, 5, 4]
    const [q, k, v] = [0, 1, 2].map(heads);
    const p = F.softmax(einsum('bhnd,bhmd->bhnm', q, k).div(2), -1);   // √4 = 2
    const o = einsum('bhnm,bhmd->bnhd', p, v).reshape(2, 5, 12);
    const want = F.linear(o, attn.proj.weight, attn.proj.bias);
    assert.deepEqual(got.shape, [2, 5, 12]);
    assert.ok(maxAbsDiff(got, want) < 1e-12, `max |diff| ${maxAbsDiff(got, want)}`);
  }));
  attn.dispose();
});

test('Attention: qkv bias off by default (timm), dim must divide into heads', () => {
  const a = new Attention(8, { numHeads: 2 });
  assert.equal(a.qkv.bias, null);
  assert.equal(a.numParameters(), 8 * 24 + 8 * 8 + 8);
  a.dispose();
  assertThrowsMessage(() => new Attention(10, { numHeads: 3 }), /dim 10 is not divisible by numHeads 3/);
});

test('Attention: gradients reach every parameter and the input', () => {
  const attn = new Attention(8, { numHeads: 2, qkvBias: true });
  tidy(() => {
    const x = randn([3, 4, 8], { requiresGrad: true });
    attn.call(x).square().sum().backward();
    assert.deepEqual(x.grad!.shape, [3, 4, 8]);
    for (const [name, p] of attn.namedParameters()) assert.ok(p.grad && p.grad.abs().sum().item() > 0, `${name} has no gradient`);
  });
  attn.dispose();
});

test('Mlp: fc1 → GELU → fc2 with timm names', () => {
  const mlp = new Mlp(6, { hiddenFeatures: 10 });
  assert.deepEqual([...mlp.stateDict().keys()], ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
  assertNoLeak(() => tidy(() => {
    const x = randn([2, 3, 6]);
    const want = F.linear(F.gelu(F.linear(x, mlp.fc1.weight, mlp.fc1.bias)), mlp.fc2.weight, mlp.fc2.bias);
    assert.ok(maxAbsDiff(mlp.call(x), want) < 1e-6);
  }));
  mlp.dispose();
});

test('PatchEmbed: any image and patch size, in_chans; tokens [B, gh·gw, D]', () => {
  const pe = new PatchEmbed({ imgSize: [24, 40], patchSize: 8, inChans: 1, embedDim: 5 });
  assert.deepEqual(pe.gridSize, [3, 5]);
  assert.equal(pe.numPatches, 15);
  assert.deepEqual(pe.proj.weight.shape, [5, 1, 8, 8]);
  assertNoLeak(() => tidy(() => {
    const x = randn([2, 1, 24, 40]);
    const y = pe.call(x);
    assert.deepEqual(y.shape, [2, 15, 5]);
    // token 6 is the patch at row 1, column 1: the conv of that 8×8 window
    const win = x.narrow(2, 8, 8).narrow(3, 8, 8);
    const want = F.conv2d(win, pe.proj.weight, pe.proj.bias).flatten(1);
    assert.ok(maxAbsDiff(y.select(1, 6), want) < 1e-5);
  }));
  assertThrowsMessage(() => tidy(() => pe.call(randn([1, 1, 32, 40]))), /expected input \[B, C, 24, 40\], got \[1,1,32,40\]/);
  assertThrowsMessage(() => new PatchEmbed({ imgSize: 30, patchSize: 4, embedDim: 3 }), /30×30 is not a whole number of 4×4 patches/);
  pe.dispose();
});

test('Block: pre-norm residuals, timm names, optional LayerScale', () => {
  const b = new Block(8, { numHeads: 2, qkvBias: true, mlpRatio: 2 });
  assert.deepEqual([...b.stateDict().keys()], [
    'norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias',
    'norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias',
  ]);
  assertNoLeak(() => tidy(() => {
    const x = randn([2, 3, 8]);
    const a = x.add(b.attn.call(b.norm1.call(x)));
    const want = a.add(b.mlp.call(b.norm2.call(a)));
    assert.ok(maxAbsDiff(b.call(x), want) < 1e-6);
  }));
  b.dispose();
  const ls = new Block(8, { numHeads: 2, initValues: 1e-5 });
  assert.ok(ls.ls1 instanceof LayerScale && ls.ls2 instanceof LayerScale);
  assert.ok(ls.stateDict().has('ls1.gamma') && ls.stateDict().has('ls2.gamma'));
  ls.dispose();
});
