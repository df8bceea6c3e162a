// torchvision's VisionTransformer → civet's (timm-named) VisionTransformer. The two networks
// compute the same function (pre-norm blocks, LayerNorm eps 1e-6, exact GELU, class token
// first, learned position embedding added after the concatenation); only the names differ,
// and nn.MultiheadAttention's packed in_proj is exactly timm's qkv Linear ([3D, D], q|k|v rows).
//
//   class_token                                  → cls_token
//   conv_proj.{weight,bias}                      → patch_embed.proj.{weight,bias}
//   encoder.pos_embedding                        → pos_embed
//   encoder.layers.encoder_layer_I.ln_1          → blocks.I.norm1
//     ….self_attention.in_proj_{weight,bias}     → blocks.I.attn.qkv.{weight,bias}
//     ….self_attention.out_proj                  → blocks.I.attn.proj
//     ….ln_2                                     → blocks.I.norm2
//     ….mlp.0 | mlp.linear_1                     → blocks.I.mlp.fc1
//     ….mlp.3 | mlp.linear_2                     → blocks.I.mlp.fc2
//   encoder.ln                                   → norm
//   heads.head                                   → head
//
// Not convertible (an error names them): heads.pre_logits (representation_size) and the
// conv-stem variant (conv_proj.conv_*), which have no counterpart in the civet model.
import type { ModelOptions } from './registry';
import { registerConverter } from '../interop/torchvision';

const LAYER_RULES: [RegExp, string][] = [
  [/^ln_1\.(weight|bias)$/, 'norm1.$1'],
  [/^self_attention\.in_proj_(weight|bias)$/, 'attn.qkv.$1'],
  [/^self_attention\.out_proj\.(weight|bias)$/, 'attn.proj.$1'],
  [/^ln_2\.(weight|bias)$/, 'norm2.$1'],
  [/^mlp\.(?:0|linear_1)\.(weight|bias)$/, 'mlp.fc1.$1'],
  [/^mlp\.(?:3|linear_2)\.(weight|bias)$/, 'mlp.fc2.$1'],
];
const TOP_RULES: [RegExp, string][] = [
  [/^class_token$/, 'cls_token'],
  [/^conv_proj\.(weight|bias)$/, 'patch_embed.proj.$1'],
  [/^encoder\.pos_embedding$/, 'pos_embed'],
  [/^encoder\.ln\.(weight|bias)$/, 'norm.$1'],
  [/^heads\.head\.(weight|bias)$/, 'head.$1'],
];
const LAYER = /^encoder\.layers\.encoder_layer_(\d+)\.(.+)$/;

/** civet's name for one torchvision ViT state-dict key, or null when it has none. */
export function torchvisionVitKey(key: string): string | null {
  const m = LAYER.exec(key);
  if (m) {
    for (const [re, to] of LAYER_RULES) if (re.test(m[2])) return `blocks.${Number(m[1])}.${m[2].replace(re, to)}`;
    return null;
  }
  for (const [re, to] of TOP_RULES) if (re.test(key)) return key.replace(re, to);
  return null;
}

/** Renames a torchvision VisionTransformer state dict to civet's names (values are passed through,
 *  not copied). Throws naming every key it cannot map. */
export function convertTorchvisionVit<V>(sd: Map<string, V> | Record<string, V>): Map<string, V> {
  const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
  const out = new Map<string, V>();
  const unknown: string[] = [];
  for (const [k, v] of src) {
    const to = torchvisionVitKey(k);
    if (to === null) unknown.push(k);
    else out.set(to, v);
  }
  if (unknown.length) {
    throw new Error(`torchvision ViT: no civet counterpart for ${unknown.length} key(s): ${unknown.slice(0, 8).join(', ')}${unknown.length > 8 ? ', …' : ''}` +
      ' (heads.pre_logits / representation_size and conv stems are not supported)');
  }
  return out;
}

// torchvision's vit_b_16, vit_b_32, vit_l_16, vit_l_32, vit_h_14
registerConverter('vit_', (sd) => convertTorchvisionVit(sd));

/** torchvision VisionTransformer constructor arguments. */
export interface TorchvisionVitArgs {
  image_size: number;
  patch_size: number;
  num_layers: number;
  num_heads: number;
  hidden_dim: number;
  mlp_dim: number;
  num_classes?: number;
  dropout?: number;
  attention_dropout?: number;
}

/** civet model options (for createModel('vit_tiny', …) or vitConfig) equivalent to torchvision's arguments. */
export function torchvisionVitOptions(a: TorchvisionVitArgs): ModelOptions {
  for (const k of ['image_size', 'patch_size', 'num_layers', 'num_heads', 'hidden_dim', 'mlp_dim'] as const) {
    if (!Number.isInteger(a[k]) || a[k] <= 0) throw new TypeError(`torchvision ViT: ${k} must be a positive integer, got ${JSON.stringify(a[k])}`);
  }
  return {
    imgSize: a.image_size, patchSize: a.patch_size, depth: a.num_layers, numHeads: a.num_heads,
    embedDim: a.hidden_dim, mlpDim: a.mlp_dim, numClasses: a.num_classes ?? 1000,
    dropRate: a.dropout ?? 0, attnDropRate: a.attention_dropout ?? 0, qkvBias: true,
  };
}

/** Parameters of torchvision's VisionTransformer(**a) (no representation layer), computed from its layout. */
export function torchvisionVitParamCount(a: TorchvisionVitArgs): number {
  const D = a.hidden_dim, M = a.mlp_dim, K = a.num_classes ?? 1000;
  const patches = (a.image_size / a.patch_size) ** 2;
  const layer = 2 * D /* ln_1 */ + (3 * D * D + 3 * D) /* in_proj */ + (D * D + D) /* out_proj */
    + 2 * D /* ln_2 */ + (D * M + M) + (M * D + D) /* mlp */;
  return (3 * a.patch_size ** 2 * D + D) /* conv_proj */ + D /* class_token */ + (patches + 1) * D /* pos_embedding */
    + a.num_layers * layer + 2 * D /* encoder.ln */ + (D * K + K) /* heads.head */;
}
