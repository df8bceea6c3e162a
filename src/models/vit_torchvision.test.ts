// torchvision ViT → civet names: every key kind, both MLP spellings, errors for what has no
// counterpart, and a full key set that loads strictly into the civet model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zeros, tidy } from '../tensor';
import { assertThrowsMessage } from '../tensor/testing';
import { convertTorchvisionVit, torchvisionVitKey, torchvisionVitOptions, torchvisionVitParamCount, TorchvisionVitArgs } from './vit_torchvision';
import { VisionTransformer, vitConfig } from './vit';
import { convertTorchvisionStateDict } from '../interop/torchvision';

test('torchvisionVitKey: top-level and per-layer names', () => {
  const cases: [string, string][] = [
    ['class_token', 'cls_token'],
    ['conv_proj.weight', 'patch_embed.proj.weight'],
    ['conv_proj.bias', 'patch_embed.proj.bias'],
    ['encoder.pos_embedding', 'pos_embed'],
    ['encoder.layers.encoder_layer_0.ln_1.weight', 'blocks.0.norm1.weight'],
    ['encoder.layers.encoder_layer_11.ln_1.bias', 'blocks.11.norm1.bias'],
    ['encoder.layers.encoder_layer_3.self_attention.in_proj_weight', 'blocks.3.attn.qkv.weight'],
    ['encoder.layers.encoder_layer_3.self_attention.in_proj_bias', 'blocks.3.attn.qkv.bias'],
    ['encoder.layers.encoder_layer_3.self_attention.out_proj.weight', 'blocks.3.attn.proj.weight'],
    ['encoder.layers.encoder_layer_3.self_attention.out_proj.bias', 'blocks.3.attn.proj.bias'],
    ['encoder.layers.encoder_layer_3.ln_2.weight', 'blocks.3.norm2.weight'],
    ['encoder.layers.encoder_layer_3.mlp.0.weight', 'blocks.3.mlp.fc1.weight'],
    ['encoder.layers.encoder_layer_3.mlp.3.bias', 'blocks.3.mlp.fc2.bias'],
    ['encoder.layers.encoder_layer_3.mlp.linear_1.bias', 'blocks.3.mlp.fc1.bias'],       // torchvision < 0.14 spelling
    ['encoder.layers.encoder_layer_3.mlp.linear_2.weight', 'blocks.3.mlp.fc2.weight'],
    ['encoder.ln.weight', 'norm.weight'],
    ['heads.head.weight', 'head.weight'],
    ['heads.head.bias', 'head.bias'],
  ];
  for (const [from, to] of cases) assert.equal(torchvisionVitKey(from), to, from);
  for (const k of ['heads.pre_logits.weight', 'conv_proj.conv_0.weight', 'encoder.layers.encoder_layer_0.mlp.1.weight', 'class_token.x']) {
    assert.equal(torchvisionVitKey(k), null, k);
  }
});

test('convertTorchvisionVit: renames, passes values through, rejects unknown keys naming them', () => {
  const out = convertTorchvisionVit({ class_token: 1, 'encoder.ln.bias': 2 });
  assert.deepEqual([...out], [['cls_token', 1], ['norm.bias', 2]]);
  // registered with the torchvision converter registry for vit_b_16, vit_l_32, …
  assert.deepEqual([...convertTorchvisionStateDict('vit_b_16', { 'encoder.pos_embedding': 3 })], [['pos_embed', 3]]);
  assertThrowsMessage(() => convertTorchvisionVit(new Map([['heads.pre_logits.weight', 0], ['heads.head.weight', 0]])),
    /no civet counterpart for 1 key\(s\): heads\.pre_logits\.weight/);
});

test('a torchvision state dict (names and shapes) loads strictly into the civet ViT built from the same arguments', () => {
  const a: TorchvisionVitArgs = { image_size: 32, patch_size: 8, num_layers: 2, num_heads: 2, hidden_dim: 16, mlp_dim: 40, num_classes: 5 };
  const D = a.hidden_dim, M = a.mlp_dim;
  const tv: [string, number[]][] = [
    ['class_token', [1, 1, D]], ['conv_proj.weight', [D, 3, 8, 8]], ['conv_proj.bias', [D]], ['encoder.pos_embedding', [1, 17, D]],
  ];
  for (let i = 0; i < a.num_layers; i++) {
    const p = `encoder.layers.encoder_layer_${i}.`;
    tv.push([`${p}ln_1.weight`, [D]], [`${p}ln_1.bias`, [D]], [`${p}self_attention.in_proj_weight`, [3 * D, D]], [`${p}self_attention.in_proj_bias`, [3 * D]],
      [`${p}self_attention.out_proj.weight`, [D, D]], [`${p}self_attention.out_proj.bias`, [D]], [`${p}ln_2.weight`, [D]], [`${p}ln_2.bias`, [D]],
      [`${p}mlp.0.weight`, [M, D]], [`${p}mlp.0.bias`, [M]], [`${p}mlp.3.weight`, [D, M]], [`${p}mlp.3.bias`, [D]]);
  }
  tv.push(['encoder.ln.weight', [D]], ['encoder.ln.bias', [D]], ['heads.head.weight', [5, D]], ['heads.head.bias', [5]]);
  const count = tv.reduce((n, [, s]) => n + s.reduce((x, y) => x * y, 1), 0);
  assert.equal(torchvisionVitParamCount(a), count);

  const m = new VisionTransformer(vitConfig('tiny', torchvisionVitOptions(a)));
  assert.equal(m.numParameters(), count);
  tidy(() => {
    const sd = new Map(tv.map(([k, s]) => [k, zeros(s)]));
    const report = m.loadStateDict(convertTorchvisionVit(sd));   // strict: throws on any missing/unexpected/mis-shaped key
    assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [] });
  });
  m.dispose();
});

test('torchvisionVitOptions: arguments map to the civet config; the vit-ti32 benchmark model counts as torchvision', () => {
  const ti32: TorchvisionVitArgs = { image_size: 32, patch_size: 4, num_layers: 12, num_heads: 3, hidden_dim: 192, mlp_dim: 768, num_classes: 10 };
  const c = vitConfig('base', torchvisionVitOptions(ti32));
  assert.deepEqual([c.imgSize, c.patchSize, c.depth, c.numHeads, c.embedDim, c.mlpDim, c.numClasses, c.qkvBias], [32, 4, 12, 3, 192, 768, 10, true]);
  assert.equal(torchvisionVitParamCount(ti32), 5_362_762);  // torch_bench.py vit-ti32 "params"
  // vit_b_16 at 224/1000 (torchvision's documented 86,567,656)
  assert.equal(torchvisionVitParamCount({ image_size: 224, patch_size: 16, num_layers: 12, num_heads: 12, hidden_dim: 768, mlp_dim: 3072 }), 86_567_656);
  assertThrowsMessage(() => torchvisionVitOptions({ ...ti32, patch_size: 0 }), /patch_size must be a positive integer/);
});
