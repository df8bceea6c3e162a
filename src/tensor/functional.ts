// torch.nn.functional under its own names and argument names (options objects carry the
// keyword arguments). Each function is one native call or a short composition of them.
import { native, UNARY } from './native';
import { Tensor, th } from './tensor';
import { DType, dtypeCode } from './dtype';
import { tidy } from './scope';

type IntOr2 = number | [number, number] | number[];
type Reduction = 'none' | 'mean' | 'sum';
const pair = (x: IntOr2): number[] => (typeof x === 'number' ? [x, x] : x);
const T = (x: any) => new Tensor(x);
const opt = (t?: Tensor | null) => (t ? th(t, 't') : null);

export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return T(native.linear(th(input, 'input'), th(weight, 'weight'), opt(bias)));
}

export interface ConvOptions { stride?: IntOr2; padding?: IntOr2 | 'same' | 'valid'; dilation?: IntOr2; groups?: number }
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  const pad = typeof o.padding === 'string' ? o.padding : pair(o.padding ?? 0);
  return T(native.conv(th(input, 'input'), th(weight, 'weight'), opt(bias), pair(o.stride ?? 1), pad, pair(o.dilation ?? 1), o.groups ?? 1));
}
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null, o: { stride?: number; padding?: number | 'same' | 'valid'; dilation?: number; groups?: number } = {}): Tensor {
  const pad = typeof o.padding === 'string' ? o.padding : [o.padding ?? 0];
  return T(native.conv(th(input, 'input'), th(weight, 'weight'), opt(bias), [o.stride ?? 1], pad, [o.dilation ?? 1], o.groups ?? 1));
}
export function conv_transpose2d(input: Tensor, weight: Tensor, bias?: Tensor | null,
  o: { stride?: IntOr2; padding?: IntOr2; output_padding?: IntOr2; groups?: number; dilation?: IntOr2 } = {}): Tensor {
  return T(native.convTranspose2d(th(input, 'input'), th(weight, 'weight'), opt(bias), pair(o.stride ?? 1), pair(o.padding ?? 0),
    pair(o.output_padding ?? 0), o.groups ?? 1, pair(o.dilation ?? 1)));
}

export function max_pool2d(input: Tensor, kernel_size: IntOr2, o: { stride?: IntOr2 | null; padding?: IntOr2; dilation?: IntOr2; ceil_mode?: boolean } = {}): Tensor {
  const k = pair(kernel_size);
  return T(native.maxPool2d(th(input, 'input'), k, o.stride ? pair(o.stride) : k, pair(o.padding ?? 0), pair(o.dilation ?? 1), o.ceil_mode ?? false, false));
}
export function avg_pool2d(input: Tensor, kernel_size: IntOr2, o: { stride?: IntOr2 | null; padding?: IntOr2; ceil_mode?: boolean; count_include_pad?: boolean; divisor_override?: number | null } = {}): Tensor {
  const k = pair(kernel_size);
  return T(native.avgPool2d(th(input, 'input'), k, o.stride ? pair(o.stride) : k, pair(o.padding ?? 0), o.ceil_mode ?? false,
    o.count_include_pad ?? true, o.divisor_override ?? null));
}
export function adaptive_avg_pool2d(input: Tensor, output_size: IntOr2): Tensor {
  return T(native.adaptiveAvgPool2d(th(input, 'input'), pair(output_size)));
}
export function adaptive_max_pool2d(input: Tensor, output_size: IntOr2): Tensor {
  return T(native.adaptiveMaxPool2d(th(input, 'input'), pair(output_size)));
}

export function batch_norm(input: Tensor, running_mean: Tensor | null, running_var: Tensor | null,
  o: { weight?: Tensor | null; bias?: Tensor | null; training?: boolean; momentum?: number; eps?: number } = {}): Tensor {
  return T(native.batchNorm(th(input, 'input'), opt(running_mean), opt(running_var), opt(o.weight), opt(o.bias),
    o.training ?? false, o.momentum ?? 0.1, o.eps ?? 1e-5));
}
export function layer_norm(input: Tensor, normalized_shape: number[], o: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {}): Tensor {
  return T(native.layerNorm(th(input, 'input'), normalized_shape, opt(o.weight), opt(o.bias), o.eps ?? 1e-5));
}
export function group_norm(input: Tensor, num_groups: number, o: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {}): Tensor {
  return T(native.groupNorm(th(input, 'input'), num_groups, opt(o.weight), opt(o.bias), o.eps ?? 1e-5));
}
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  if (p < 0 || p > 1) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
  if (!training || p === 0) return input.mul(1);  // a new handle: callers may dispose input
  return T(native.dropout(th(input, 'input'), p, training));
}

export const relu = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.relu));
export const relu6 = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.relu6));
export const gelu = (x: Tensor, o: { approximate?: 'none' | 'tanh' } = {}) => T(native.unary(th(x, 'x'), o.approximate === 'tanh' ? UNARY.gelu_tanh : UNARY.gelu));
export const silu = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.silu));
export const sigmoid = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.sigmoid));
export const tanh = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.tanh));
export const hardswish = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.hardswish));
export const hardsigmoid = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.hardsigmoid));
export const mish = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.mish));
export const softplus = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.softplus));
export const logsigmoid = (x: Tensor) => T(native.unary(th(x, 'x'), UNARY.log_sigmoid));
export const leaky_relu = (x: Tensor, negative_slope = 0.01) => T(native.leakyRelu(th(x, 'x'), negative_slope));
export const hardtanh = (x: Tensor, min_val = -1, max_val = 1) => T(native.hardtanh(th(x, 'x'), min_val, max_val));
export const elu = (x: Tensor, alpha = 1) => T(native.elu(th(x, 'x'), alpha));
export function softmax(input: Tensor, dim: number, o: { dtype?: DType } = {}): Tensor {
  return T(native.softmax(th(input, 'input'), dim, o.dtype ? dtypeCode(o.dtype) : null));
}
export function log_softmax(input: Tensor, dim: number, o: { dtype?: DType } = {}): Tensor {
  return T(native.logSoftmax(th(input, 'input'), dim, o.dtype ? dtypeCode(o.dtype) : null));
}

export function interpolate(input: Tensor, o: { size?: IntOr2; scale_factor?: number | [number, number]; mode?: 'nearest' | 'bilinear' | 'bicubic'; align_corners?: boolean | null }): Tensor {
  const [, , H, W] = input.shape;
  let size: number[];
  let scales: number[] | null = null;
  if (o.size !== undefined) {
    if (o.scale_factor !== undefined) throw new TypeError('interpolate: only one of size or scale_factor should be defined');
    size = pair(o.size);
  } else if (o.scale_factor !== undefined) {
    scales = typeof o.scale_factor === 'number' ? [o.scale_factor, o.scale_factor] : o.scale_factor;
    size = [Math.floor(H * scales[0]), Math.floor(W * scales[1])];
  } else {
    throw new TypeError('interpolate: either size or scale_factor should be defined');
  }
  return T(native.interpolate(th(input, 'input'), size, o.mode ?? 'nearest', o.align_corners ?? null, scales));
}

/** F.unfold (im2col): [N, C, H, W] → [N, C·kh·kw, L] */
export function unfold(input: Tensor, kernel_size: IntOr2, o: { dilation?: IntOr2; padding?: IntOr2; stride?: IntOr2 } = {}): Tensor {
  return T(native.im2col(th(input, 'input'), pair(kernel_size), pair(o.dilation ?? 1), pair(o.padding ?? 0), pair(o.stride ?? 1)));
}
/** F.fold (col2im) */
export function fold(input: Tensor, output_size: IntOr2, kernel_size: IntOr2, o: { dilation?: IntOr2; padding?: IntOr2; stride?: IntOr2 } = {}): Tensor {
  return T(native.col2im(th(input, 'input'), pair(output_size), pair(kernel_size), pair(o.dilation ?? 1), pair(o.padding ?? 0), pair(o.stride ?? 1)));
}
export function pad(input: Tensor, padding: number[], mode: 'constant' | 'reflect' | 'replicate' = 'constant', value = 0): Tensor {
  return T(native.pad(th(input, 'input'), padding, mode, value));
}

export function normalize(input: Tensor, o: { p?: number; dim?: number; eps?: number } = {}): Tensor {
  const norm = input.norm(o.p ?? 2, o.dim ?? 1, true);
  const denom = norm.clampMin(o.eps ?? 1e-12);
  const out = input.div(denom);
  norm.dispose(); denom.dispose();
  return out;
}
export function cdist(x1: Tensor, x2: Tensor, p = 2): Tensor { return T(native.cdist(th(x1, 'x1'), th(x2, 'x2'), p)); }
export function cosine_similarity(x1: Tensor, x2: Tensor, dim = 1, eps = 1e-8): Tensor {
  return T(native.cosineSimilarity(th(x1, 'x1'), th(x2, 'x2'), dim, eps));
}
export function one_hot(t: Tensor, num_classes = -1): Tensor { return T(native.oneHot(th(t, 't'), num_classes)); }
export function embedding(input: Tensor, weight: Tensor, padding_idx?: number | null): Tensor {
  return T(native.embedding(th(weight, 'weight'), th(input, 'input'), padding_idx ?? null));
}

// ---- losses ---------------------------------------------------------------------------------
export function cross_entropy(input: Tensor, target: Tensor, o: { weight?: Tensor | null; ignore_index?: number; reduction?: Reduction; label_smoothing?: number } = {}): Tensor {
  const ls = o.label_smoothing ?? 0;
  if (ls < 0 || ls > 1) throw new RangeError(`cross_entropy: label_smoothing must be in [0, 1], got ${ls}`);
  return T(native.crossEntropy(th(input, 'input'), th(target, 'target'), opt(o.weight), o.reduction ?? 'mean', o.ignore_index ?? -100, ls));
}
export function nll_loss(input: Tensor, target: Tensor, o: { weight?: Tensor | null; ignore_index?: number; reduction?: Reduction } = {}): Tensor {
  return T(native.nllLoss(th(input, 'input'), th(target, 'target'), opt(o.weight), o.reduction ?? 'mean', o.ignore_index ?? -100));
}
/** input holds log-probabilities; target probabilities (or log-probabilities with log_target). */
export function kl_div(input: Tensor, target: Tensor, o: { reduction?: Reduction | 'batchmean'; log_target?: boolean } = {}): Tensor {
  const red = o.reduction ?? 'mean';
  if (red !== 'batchmean') return T(native.klDiv(th(input, 'input'), th(target, 'target'), red, o.log_target ?? false));
  const s = T(native.klDiv(th(input, 'input'), th(target, 'target'), 'sum', o.log_target ?? false));
  const out = input.dim() === 0 ? s : s.div(input.shape[0]);
  if (out !== s) s.dispose();
  return out;
}
export function mse_loss(input: Tensor, target: Tensor, o: { reduction?: Reduction } = {}): Tensor {
  return T(native.mseLoss(th(input, 'input'), th(target, 'target'), o.reduction ?? 'mean'));
}
export function l1_loss(input: Tensor, target: Tensor, o: { reduction?: Reduction } = {}): Tensor {
  return T(native.l1Loss(th(input, 'input'), th(target, 'target'), o.reduction ?? 'mean'));
}
export function smooth_l1_loss(input: Tensor, target: Tensor, o: { reduction?: Reduction; beta?: number } = {}): Tensor {
  return T(native.smoothL1Loss(th(input, 'input'), th(target, 'target'), o.reduction ?? 'mean', o.beta ?? 1.0));
}
export function binary_cross_entropy_with_logits(input: Tensor, target: Tensor, o: { weight?: Tensor | null; pos_weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  return T(native.bceWithLogits(th(input, 'input'), th(target, 'target'), opt(o.weight), opt(o.pos_weight), o.reduction ?? 'mean'));
}
export function binary_cross_entropy(input: Tensor, target: Tensor, o: { weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  return T(native.bce(th(input, 'input'), th(target, 'target'), opt(o.weight), o.reduction ?? 'mean'));
}

/** Fused attention where libtorch has it (2.x), else softmax(q kᵀ · scale + mask) v with the same semantics:
 * a boolean attn_mask marks the positions that may be attended (others get -inf), a float one is added;
 * is_causal masks the upper triangle; dropout_p drops attention weights. */
export function scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, o: { attn_mask?: Tensor | null; dropout_p?: number; is_causal?: boolean } = {}): Tensor {
  if (native.hasSdpa()) return T(native.sdpa(th(q, 'q'), th(k, 'k'), th(v, 'v'), opt(o.attn_mask), o.dropout_p ?? 0, o.is_causal ?? false));
  if (o.is_causal && o.attn_mask) throw new TypeError('scaled_dot_product_attention: attn_mask must not be given when is_causal is true');
  return tidy(() => {
    const d = q.shape[q.shape.length - 1];
    let att = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(d));
    let mask = o.attn_mask ?? null;
    if (o.is_causal) {
      const L = q.shape[q.shape.length - 2], S = k.shape[k.shape.length - 2];
      mask = T(native.full([L, S], true, dtypeCode('bool'), q.device)).tril();
    }
    if (mask) att = mask.dtype === 'bool' ? att.maskedFill(mask.logicalNot(), -Infinity) : att.add(mask);
    let p = softmax(att, -1);
    if ((o.dropout_p ?? 0) > 0) p = dropout(p, o.dropout_p);
    return p.matmul(v);
  });
}
