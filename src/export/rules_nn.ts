// ONNX rules for civet's layers (src/nn/layers), eval mode: dropout and stochastic depth vanish,
// BatchNorm uses its running statistics (and is folded into the preceding conv afterwards, see
// Graph.foldBatchNorms). GELU, LayerNorm and attention are written with standard opset-17 ops:
// GELU as x·½(1 + erf(x/√2)), LayerNormalization, attention as MatMul–Softmax–MatMul.
import {
  Identity, Dropout, DropPath, ReLU, GELU, SiLU, Sigmoid, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Sequential,
  Linear, Conv2d, BatchNorm2d, LayerNorm, Mlp, PatchEmbed, Attention, LayerScale, Block, Involution2d,
} from '../nn/layers';
import { registerExporter, ExportContext } from './context';
import { ExportError, Value, float } from './graph';

const pass = (_cx: ExportContext, _m: unknown, x: Value) => x;
registerExporter(Identity, pass);
registerExporter(Dropout, pass);
registerExporter(DropPath, pass);

registerExporter(ReLU, (cx, _m, x) => cx.g.unary('Relu', x));
registerExporter(Sigmoid, (cx, _m, x) => cx.g.unary('Sigmoid', x));
registerExporter(SiLU, (cx, _m, x) => cx.g.mul(x, cx.g.unary('Sigmoid', x)));
registerExporter(GELU, (cx, m, x) => gelu(cx, x, m.approximate));

/** torch.nn.functional.gelu: exact (erf) or the tanh approximation. */
export function gelu(cx: ExportContext, x: Value, approximate: 'none' | 'tanh' = 'none'): Value {
  const g = cx.g;
  if (approximate === 'tanh') {
    const cube = g.mul(g.mul(x, x), x);
    const inner = g.mul(g.add(x, g.mul(cube, g.scalar(0.044715))), g.scalar(Math.sqrt(2 / Math.PI)));
    return g.mul(g.mul(x, g.scalar(0.5)), g.add(g.unary('Tanh', inner), g.scalar(1)));
  }
  const e = g.unary('Erf', g.div(x, g.scalar(Math.SQRT2)));
  return g.mul(g.mul(x, g.add(e, g.scalar(1))), g.scalar(0.5));
}

registerExporter(MaxPool2d, (cx, m, x) => cx.g.pool('MaxPool', x, m.kernelSize, m.stride, m.padding));
registerExporter(AvgPool2d, (cx, m, x) => cx.g.pool('AveragePool', x, m.kernelSize, m.stride, m.padding, { ceil: m.opts.ceilMode, countIncludePad: m.opts.countIncludePad }));
registerExporter(AdaptiveAvgPool2d, (cx, m, x) => {
  const o = typeof m.outputSize === 'number' ? [m.outputSize, m.outputSize] : m.outputSize;
  if (o[0] !== 1 || o[1] !== 1) throw new ExportError(`cannot export module '${cx.path(m)}' (AdaptiveAvgPool2d): only output size 1 (global pooling) is supported, got [${o}]`);
  return cx.g.op('GlobalAveragePool', [x], [x.shape[0], x.shape[1], 1, 1]);
});
registerExporter(Flatten, (cx, m, x) => {
  const end = m.endDim < 0 ? x.shape.length + m.endDim : m.endDim;
  if (end !== x.shape.length - 1) throw new ExportError(`cannot export module '${cx.path(m)}' (Flatten): only flattening to the last dimension is supported`);
  return m.startDim === 1 ? cx.g.flatten(x, 1) : cx.g.reshape(x, [...x.shape.slice(0, m.startDim).map(() => 0), -1]);
});
registerExporter(Sequential, (cx, m, x) => {
  let y = x;
  for (const l of m) y = cx.call(l, y);
  return y;
});

registerExporter(Linear, (cx, m, x) => linear(cx, m, x));

/** y = x Wᵀ + b: Gemm for [N, in], MatMul with the stored transpose (+ Add) for more dimensions. */
export function linear(cx: ExportContext, m: Linear, x: Value): Value {
  const g = cx.g;
  if (x.shape.length === 2) {
    const w = cx.weight(m.weight, 'weight');
    const ins = m.bias ? [x, w, cx.weight(m.bias, 'bias')] : [x, w];
    return g.op('Gemm', ins, [x.shape[0], m.outFeatures], { transB: 1 });
  }
  const y = g.matmul(x, cx.weightT(m.weight, 'weight'));
  return m.bias ? g.add(y, cx.weight(m.bias, 'bias')) : y;
}

registerExporter(Conv2d, (cx, m, x) => {
  const o = m.opts;
  const pair = (v: number | number[] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1] ?? v[0]]);
  const strides = pair(o.stride, 1), dilations = pair(o.dilation, 1);
  const [kh, kw] = m.kernelSize;
  let pads: number[];
  if (o.padding === 'valid' || o.padding === undefined) pads = [0, 0, 0, 0];
  else if (o.padding === 'same') {
    // PyTorch's 'same' (stride 1): total d·(k−1), the odd one on the far side
    const th = dilations[0] * (kh - 1), tw = dilations[1] * (kw - 1);
    pads = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  } else {
    const [ph, pw] = pair(o.padding, 0);
    pads = [ph, pw, ph, pw];
  }
  const w = cx.weight(m.weight, 'weight');
  const b = m.bias ? cx.weight(m.bias, 'bias') : null;
  return cx.g.conv(x, w, b, { strides, pads, dilations, group: o.groups ?? 1 });
});

registerExporter(BatchNorm2d, (cx, m, x) => {
  const c = m.numFeatures;
  const scale = m.weight ? cx.weight(m.weight, 'weight') : cx.filled('weight', 1, [c]);
  const bias = m.bias ? cx.weight(m.bias, 'bias') : cx.filled('bias', 0, [c]);
  return cx.g.op('BatchNormalization', [x, scale, bias, cx.weight(m.running_mean, 'running_mean'), cx.weight(m.running_var, 'running_var')], x.shape, { epsilon: float(m.opts.eps ?? 1e-5) });
});

registerExporter(LayerNorm, (cx, m, x) => {
  const dims = m.normalizedShape;
  const scale = m.weight ? cx.weight(m.weight, 'weight') : cx.filled('weight', 1, dims);
  const bias = m.bias ? cx.weight(m.bias, 'bias') : cx.filled('bias', 0, dims);
  return cx.g.op('LayerNormalization', [x, scale, bias], x.shape, { axis: -dims.length, epsilon: float(m.opts.eps ?? 1e-5) });
});

registerExporter(LayerScale, (cx, m, x) => cx.g.mul(x, cx.weight(m.gamma, 'gamma')));

registerExporter(Mlp, (cx, m, x) => {
  const h = cx.call(m.drop1, cx.call(m.act, cx.call(m.fc1, x)));
  return cx.call(m.drop2, cx.call(m.fc2, h));
});

registerExporter(PatchEmbed, (cx, m, x) => {
  const [, , H, W] = x.shape;
  if (H !== m.imgSize[0] || W !== m.imgSize[1]) throw new ExportError(`PatchEmbed '${cx.path(m)}': the model takes ${m.imgSize[0]}×${m.imgSize[1]} images, the export input is ${H}×${W}`);
  const y = cx.call(m.proj, x);                                   // [B, D, gh, gw]
  if (!m.flatten) return y;
  return cx.g.transpose(cx.g.reshape(y, [0, 0, -1]), [0, 2, 1]); // [B, gh·gw, D]
});

// timm's Attention: qkv → [B, N, 3, H, hd] → [3, B, H, N, hd]; softmax(q·kᵀ·scale)·v; heads back; proj.
registerExporter(Attention, (cx, m, x) => {
  const g = cx.g;
  const [, N, C] = x.shape;
  const H = m.numHeads, hd = m.headDim;
  const qkv = g.transpose(g.reshape(cx.call(m.qkv, x), [-1, N, 3, H, hd]), [2, 0, 3, 1, 4]);
  const q = g.mul(g.gather(qkv, 0, 0), g.scalar(m.scale));      // [B, H, N, hd]
  const k = g.gather(qkv, 0, 1), v = g.gather(qkv, 0, 2);
  const attn = cx.call(m.attn_drop, g.softmax(g.matmul(q, g.transpose(k, [0, 1, 3, 2])), -1)); // [B, H, N, N]
  const o = g.reshape(g.transpose(g.matmul(attn, v), [0, 2, 1, 3]), [-1, N, C]);
  return cx.call(m.proj_drop, cx.call(m.proj, o));
});

registerExporter(Block, (cx, m, x) => {
  const a = cx.g.add(x, cx.call(m.drop_path1, cx.call(m.ls1, cx.call(m.attn, cx.call(m.norm1, x)))));
  return cx.g.add(a, cx.call(m.drop_path2, cx.call(m.ls2, cx.call(m.mlp, cx.call(m.norm2, a)))));
});

// Involution (d-li14/involution's involution_naive): kernels from conv2(conv1(avgpool(x))), then
// unfold as K·K strided slices of the zero-padded input (ONNX has no Im2Col), a broadcast
// multiply and a sum over the K·K window.
registerExporter(Involution2d, (cx, m, x) => {
  const g = cx.g;
  const K = m.kernelSize, KK = K * K, s = m.stride, p = (K - 1) / 2, G = m.groups, C = m.channels;
  const xin = m.avgpool ? cx.call(m.avgpool, x) : x;
  let k = cx.call(m.conv1.conv, xin);
  if (m.conv1.bn) k = cx.call(m.conv1.bn, k);
  if (m.conv1.activate) k = cx.call(m.conv1.activate, k);
  k = cx.call(m.conv2.conv, k);                                   // [N, G·KK, h, w]
  const [, , H, W] = x.shape;
  const Ho = Math.floor((H + 2 * p - K) / s) + 1, Wo = Math.floor((W + 2 * p - K) / s) + 1;
  if (k.shape[2] !== Ho || k.shape[3] !== Wo) {
    throw new ExportError(`Involution2d '${cx.path(m)}': the kernel map (${k.shape[2]}×${k.shape[3]}) and the unfolded input (${Ho}×${Wo}) disagree; use input sizes divisible by the stride`);
  }
  const w = g.unsqueeze(g.reshape(k, [0, G, KK, Ho, Wo]), 2);    // [N, G, 1, KK, Ho, Wo]
  const xp = p > 0 ? g.pad(x, [0, 0, p, p, 0, 0, p, p]) : x;
  const cols: Value[] = [];
  for (let ky = 0; ky < K; ky++) {
    for (let kx = 0; kx < K; kx++) {
      const win = g.op('Slice', [xp, g.initI64('starts', [ky, kx]), g.initI64('ends', [ky + (Ho - 1) * s + 1, kx + (Wo - 1) * s + 1]), g.initI64('axes', [2, 3]), g.initI64('steps', [s, s])],
        [x.shape[0], C, Ho, Wo], {}, 'unfold');
      cols.push(g.unsqueeze(win, 2));
    }
  }
  const u = g.reshape(g.concat(cols, 2), [0, G, m.groupChannels, KK, Ho, Wo]);
  return g.reshape(g.reduceSum(g.mul(w, u), [3], false), [0, C, Ho, Wo]);
});
