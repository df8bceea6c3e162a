// ViT, DeiT (plain and distilled), CivT and MLP-Mixer: registry, shapes, gradients, parameter
// counts against the published ones, stages against tapped features, timm state-dict names,
// and the multi-head APIs the distillers use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, randn, randint, tidy, F, liveTensors, manualSeed } from '../tensor';
import { tapFeatures } from '../nn/module';
import { assertThrowsMessage } from '../tensor/testing';
import { createModel, listModels, modelEntry, ModelOptions } from './registry';
import { VisionTransformer, vitConfig, stageBlockIndices, defaultPatchSize } from './vit';
import './deit';
import './civt';
import './mixer';
import type { DistilledVisionTransformer } from './deit';
import type { CivT } from './civt';
import type { MlpMixer } from './mixer';

const FAMILIES = ['vit', 'deit', 'civt', 'mixer'];
const OURS = FAMILIES.flatMap((f) => listModels(f));
const diff = (a: Tensor, b: Tensor) => tidy(() => a.sub(b).abs().max().item());

test('registry: the ViT family is registered', () => {
  for (const n of ['vit_tiny', 'vit_small', 'vit_base', 'deit_tiny', 'deit_small', 'deit_base', 'deit_tiny_distilled',
    'deit_small_distilled', 'deit_base_distilled', 'civt_tiny', 'civt_small', 'civt_base', 'mixer_tiny']) {
    assert.ok(OURS.includes(n), `${n} is not registered`);
  }
});

test('every model: forward and backward at 32×32, logits [B, K], gradients everywhere, nothing leaks', () => {
  manualSeed(0);
  for (const name of OURS) {
    // full width, 2 blocks: every block is the same code, and 12 of them at ViT-B width cost seconds to initialise
    const m = createModel(name, { imgSize: 32, numClasses: 7, depth: 2 });
    const before = liveTensors();
    tidy(() => {
      const x = randn([2, 3, 32, 32]);
      const y = m.call(x);
      assert.deepEqual(y.shape, [2, 7], name);
      F.cross_entropy(y, randint(0, 7, [2])).backward();
      for (const [pn, p] of m.namedParameters()) {
        const g = p.grad;
        assert.ok(g, `${name}: ${pn} has no gradient`);
        assert.ok(g.isfinite().all().item(), `${name}: ${pn} has a non-finite gradient`);
      }
    });
    m.zeroGrad();
    assert.equal(liveTensors(), before, `${name}: forward/backward leaked tensors`);
    m.eval();
    tidy(() => assert.deepEqual(m.call(randn([1, 3, 32, 32])).shape, [1, 7], `${name} (eval)`));
    m.dispose();
  }
});

test('parameter counts at 224×224, 1000 classes equal the published ones', () => {
  const published = OURS.filter((n) => modelEntry(n)!.publishedParams !== undefined);
  assert.ok(published.length >= 9);
  // vit_S and deit_S are one network (same class, same config): build each network once
  for (const size of ['tiny', 'small', 'base'] as const) {
    assert.deepEqual(vitConfig(size), vitConfig(size, {}));
    assert.equal(modelEntry(`vit_${size}`)!.publishedParams, modelEntry(`deit_${size}`)!.publishedParams);
  }
  for (const name of published.filter((n) => !n.startsWith('vit_'))) {
    const m = createModel(name);
    assert.equal(m.numParameters(), modelEntry(name)!.publishedParams, name);
    m.dispose();
  }
  // DeiT paper / timm: Ti 5.72M, S 22.05M, B 86.57M
  assert.equal(modelEntry('deit_tiny')!.publishedParams, 5_717_416);
  assert.equal(modelEntry('deit_small')!.publishedParams, 22_050_664);
  assert.equal(Math.round(modelEntry('deit_base')!.publishedParams! / 1e4) / 100, 86.57);
});

test('civt_tiny at 32×32 with 10 classes is the reference civt-step student: 5,559,792 parameters', () => {
  const m = createModel('civt_tiny', { imgSize: 32, numClasses: 10 }) as CivT;
  assert.equal(m.numParameters(), 5_559_792);
  assert.equal(m.patchSize, 4);
  assert.deepEqual(m.gridSize, [8, 8]);
  assert.deepEqual(m.pos_embed.shape, [1, 67, 192]);
  assert.deepEqual(m.conv_embed.proj.weight.shape, [192, 64, 2, 2]);
  m.dispose();
  // Co-advise's 224 px layout: 8×8/8 projections, 196 patches + 3 tokens
  const big = createModel('civt_tiny', { numClasses: 10 }) as CivT;
  assert.deepEqual(big.pos_embed.shape, [1, 199, 192]);
  assert.deepEqual(big.conv_embed.proj.weight.shape, [192, 64, 8, 8]);
  big.dispose();
});

test('torchvision vit-ti32 equivalent: vit_tiny, patch 4, 32×32, 10 classes has torchvision\'s 5,362,762 parameters', () => {
  const m = createModel('vit_tiny', { imgSize: 32, patchSize: 4, numClasses: 10 });
  assert.equal(m.numParameters(), 5_362_762);
  m.dispose();
});

test('stages(): token layout, names that resolve, shapes match the tapped block outputs', () => {
  assert.deepEqual(stageBlockIndices(12), [1, 3, 9, 11]);  // OFA-KD's ViT taps
  assert.deepEqual(stageBlockIndices(2), [0, 1]);
  for (const name of OURS.filter((n) => n.includes('tiny'))) {  // stage layout does not depend on width
    const m = createModel(name, { imgSize: 32, numClasses: 5, depth: 4 });
    const st = m.stages();
    assert.ok(st.length >= 2, name);
    const prefix = (m as any).numPrefixTokens ?? 0;
    tidy(() => {
      const { result, features } = tapFeatures(m, st.map((s) => s.name), () => m.call(randn([2, 3, 32, 32])));
      assert.deepEqual(result.shape, [2, 5]);
      for (const s of st) {
        assert.equal(s.layout, 'tokens', `${name} ${s.name}`);
        const n = (32 / s.stride) ** 2;
        assert.deepEqual(features.get(s.name)!.shape, [2, prefix + n, s.channels], `${name} ${s.name}`);
      }
    });
    m.dispose();
  }
});

test('vit_tiny state-dict keys are timm\'s (one block)', () => {
  const m = createModel('vit_tiny', { imgSize: 32, patchSize: 16, numClasses: 10, depth: 1 });
  assert.deepEqual([...m.stateDict().keys()], [
    'cls_token', 'pos_embed',
    'patch_embed.proj.weight', 'patch_embed.proj.bias',
    'blocks.0.norm1.weight', 'blocks.0.norm1.bias',
    'blocks.0.attn.qkv.weight', 'blocks.0.attn.qkv.bias',
    'blocks.0.attn.proj.weight', 'blocks.0.attn.proj.bias',
    'blocks.0.norm2.weight', 'blocks.0.norm2.bias',
    'blocks.0.mlp.fc1.weight', 'blocks.0.mlp.fc1.bias',
    'blocks.0.mlp.fc2.weight', 'blocks.0.mlp.fc2.bias',
    'norm.weight', 'norm.bias',
    'head.weight', 'head.bias',
  ]);
  const sd = m.stateDict();
  assert.deepEqual(sd.get('pos_embed')!.shape, [1, 5, 192]);
  assert.deepEqual(sd.get('blocks.0.attn.qkv.weight')!.shape, [576, 192]);
  assert.deepEqual(sd.get('blocks.0.mlp.fc1.weight')!.shape, [768, 192]);
  assert.deepEqual(m.noWeightDecay!(), ['cls_token', 'pos_embed']);
  m.dispose();
});

test('deit_tiny_distilled: dist_token and head_dist; forwardHeads → {cls, dist}; forward = their mean', () => {
  manualSeed(3);
  const m = createModel('deit_tiny_distilled', { imgSize: 32, numClasses: 6, depth: 2 }) as DistilledVisionTransformer;
  const keys = [...m.stateDict().keys()];
  assert.deepEqual(keys.slice(0, 3), ['cls_token', 'pos_embed', 'dist_token']);
  assert.deepEqual(keys.slice(-4), ['head.weight', 'head.bias', 'head_dist.weight', 'head_dist.bias']);
  assert.deepEqual(m.pos_embed.shape, [1, 2 + 64, 192]);
  assert.deepEqual(m.noWeightDecay(), ['cls_token', 'pos_embed', 'dist_token']);
  tidy(() => {
    const x = randn([3, 3, 32, 32]);
    for (const mode of ['train', 'eval'] as const) {
      m.train(mode === 'train');
      const h = m.forwardHeads(x);
      assert.deepEqual(h.cls.shape, [3, 6]);
      assert.deepEqual(h.dist.shape, [3, 6]);
      assert.ok(diff(h.cls, h.dist) > 1e-4, 'the two heads differ');
      assert.ok(diff(m.call(x), h.cls.add(h.dist).div(2)) < 1e-5, `${mode}: forward is the mean of both heads`);
    }
  });
  m.dispose();
  const c = createModel('deit_tiny_distilled', { imgSize: 32, numClasses: 6, depth: 1, readout: 'cls' }) as DistilledVisionTransformer;
  c.eval();
  tidy(() => { const x = randn([1, 3, 32, 32]); assert.ok(diff(c.call(x), c.forwardHeads(x).cls) < 1e-6); });
  c.dispose();
  assertThrowsMessage(() => createModel('deit_tiny_distilled', { readout: 'both' }), /readout must be/);
});

test('civt: tokens [cls, mean(conv), mean(inv), conv + inv]; forwardHeads → {cls, conv, inv}; forward = their mean', () => {
  manualSeed(4);
  const m = createModel('civt_tiny', { imgSize: 32, numClasses: 5, depth: 2 }) as CivT;
  const keys = [...m.stateDict().keys()];
  for (const k of ['cls_token', 'pos_embed', 'conv_embed.conv.0.weight', 'conv_embed.conv.1.running_var', 'conv_embed.proj.bias',
    'inv_embed.stem.0.conv.weight', 'inv_embed.stem.1.conv1.conv.weight', 'inv_embed.stem.1.conv2.conv.bias', 'inv_embed.stem.4.bn.weight',
    'inv_embed.proj.weight', 'head.weight', 'head_conv.weight', 'head_inv.bias']) {
    assert.ok(keys.includes(k), `missing ${k}`);
  }
  assert.ok(!keys.some((k) => k.startsWith('patch_embed') || k === 'dist_token'));
  m.eval();  // batch-norm running stats: the stems give the same output on each call
  tidy(() => {
    const x = randn([2, 3, 32, 32]);
    const { features } = tapFeatures(m, ['conv_embed', 'inv_embed', 'pos_drop'], () => m.call(x));
    const xc = features.get('conv_embed')!, xi = features.get('inv_embed')!, t = features.get('pos_drop')!;
    assert.deepEqual(xc.shape, [2, 64, 192]);
    assert.deepEqual(t.shape, [2, 67, 192]);
    const tok = t.sub(m.pos_embed);
    assert.ok(diff(tok.narrow(1, 0, 1), m.cls_token.expand(2, -1, -1)) < 1e-6, 'token 0 is cls');
    assert.ok(diff(tok.narrow(1, 1, 1), xc.mean(1, true)) < 1e-5, 'token 1 is the mean conv embedding');
    assert.ok(diff(tok.narrow(1, 2, 1), xi.mean(1, true)) < 1e-5, 'token 2 is the mean inv embedding');
    assert.ok(diff(tok.narrow(1, 3, 64), xc.add(xi)) < 1e-5, 'patches are conv + inv');
    const h = m.forwardHeads(x);
    for (const k of ['cls', 'conv', 'inv'] as const) assert.deepEqual(h[k].shape, [2, 5]);
    assert.ok(diff(m.call(x), h.cls.add(h.conv).add(h.inv).div(3)) < 1e-5);
  });
  assert.deepEqual(m.noWeightDecay(), ['cls_token', 'pos_embed']);
  m.dispose();
  // 28×28 single-channel (Fashion-MNIST): 7×7 patches
  const f = createModel('civt_tiny', { imgSize: 28, inChans: 1, numClasses: 10, depth: 1 }) as CivT;
  assert.deepEqual(f.gridSize, [7, 7]);
  tidy(() => assert.deepEqual(f.call(randn([2, 1, 28, 28])).shape, [2, 10]));
  f.dispose();
  assertThrowsMessage(() => createModel('civt_tiny', { imgSize: 32, patchSize: 3 }), /patchSize must be one even number/);
});

test('mixer_tiny: timm mixer names, Co-advise size (12 × 192, token MLP 96, channel MLP 768)', () => {
  const m = createModel('mixer_tiny', { imgSize: 32, numClasses: 10, depth: 1 }) as MlpMixer;
  assert.deepEqual([...m.stateDict().keys()], [
    'stem.proj.weight', 'stem.proj.bias',
    'blocks.0.norm1.weight', 'blocks.0.norm1.bias',
    'blocks.0.mlp_tokens.fc1.weight', 'blocks.0.mlp_tokens.fc1.bias', 'blocks.0.mlp_tokens.fc2.weight', 'blocks.0.mlp_tokens.fc2.bias',
    'blocks.0.norm2.weight', 'blocks.0.norm2.bias',
    'blocks.0.mlp_channels.fc1.weight', 'blocks.0.mlp_channels.fc1.bias', 'blocks.0.mlp_channels.fc2.weight', 'blocks.0.mlp_channels.fc2.bias',
    'norm.weight', 'norm.bias', 'head.weight', 'head.bias',
  ]);
  const sd = m.stateDict();
  assert.deepEqual(sd.get('blocks.0.mlp_tokens.fc1.weight')!.shape, [96, 64]);
  assert.deepEqual(sd.get('blocks.0.mlp_channels.fc1.weight')!.shape, [768, 192]);
  m.dispose();
  const full = createModel('mixer_tiny');
  assert.equal(full.numParameters(), 4_355_800);
  assert.equal((full as MlpMixer).blocks.length, 12);
  full.dispose();
});

test('options: patch size default and validation; any image and patch size', () => {
  assert.equal(defaultPatchSize(224), 16);
  assert.equal(defaultPatchSize(32), 4);
  assert.equal(vitConfig('tiny', { imgSize: 32 }).patchSize, 4);
  assert.equal(vitConfig('base').patchSize, 16);
  const m = createModel('vit_small', { imgSize: [24, 48], patchSize: [8, 12], numClasses: 3, depth: 1, inChans: 1 } as unknown as ModelOptions) as VisionTransformer;
  assert.deepEqual(m.gridSize, [3, 4]);
  tidy(() => assert.deepEqual(m.call(randn([2, 1, 24, 48])).shape, [2, 3]));
  m.dispose();
  assertThrowsMessage(() => createModel('vit_tiny', { imgSize: 30, patchSize: 4 }), /30×30 is not a whole number of 4×4 patches/);
  assertThrowsMessage(() => createModel('vit_tiny', { depth: 1.5 }), /depth: expected an integer/);
  assertThrowsMessage(() => createModel('vit_tiny', { patchSize: '16' }), /patchSize: expected a positive integer/);
  const noHead = createModel('deit_tiny', { imgSize: 32, numClasses: 0, depth: 1 });
  tidy(() => assert.deepEqual(noHead.call(randn([2, 3, 32, 32])).shape, [2, 192]));
  noHead.dispose();
});

test('init follows timm: Linear weights trunc_normal(.02) with zero bias, LayerNorm 1/0, tokens std .02', () => {
  manualSeed(5);
  const m = createModel('vit_small', { imgSize: 32, numClasses: 10, depth: 2 }) as VisionTransformer;
  const std = (t: Tensor) => tidy(() => t.std().item());
  const w = m.blocks.at(0).getSubmodule('mlp.fc1') as any;
  assert.ok(Math.abs(std(w.weight) - 0.02) < 0.001, `fc1 std ${std(w.weight)}`);
  assert.equal(tidy(() => w.bias.abs().sum().item()), 0);
  assert.ok(Math.abs(std(m.pos_embed) - 0.02) < 0.002);
  assert.equal(tidy(() => m.norm.weight!.sub(1).abs().sum().item()), 0);
  m.dispose();
});
