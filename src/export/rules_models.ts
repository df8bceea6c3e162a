// ONNX rules for the model zoo (src/models): each mirrors its model's eval forward(), with the
// inference read-out of multi-head students (DeiT's averaged heads, CivT's three heads) taken
// from the export options or the model's own `readout`.
import type { Module } from '../nn/module';
import { VisionTransformer } from '../models/vit';
import { DistilledVisionTransformer } from '../models/deit';
import { CivT } from '../models/civt';
import { MlpMixer, MixerBlock } from '../models/mixer';
import { ResNet, BasicBlock, Bottleneck } from '../models/resnet';
import { CifarResNet, CifarBasicBlock, WideResNet, NetworkBlock, WideBasicBlock } from '../models/cifar_resnet';
import { RegNet, RegStage, RegBottleneck, SqueezeExcite } from '../models/regnet';
import { RedNet, RedBottleneck } from '../models/rednet';
import { ConvNormAct, ClassifierHead } from '../models/cnn_common';
import { TinyCnn } from '../models/tiny';
import { registerExporter, ExportContext } from './context';
import { ExportError, Value } from './graph';

// ---- transformers --------------------------------------------------------------------------------

/** [cls (, dist), patches] + pos_embed → blocks → norm: the ViT trunk shared by ViT and DeiT. */
function vitFeatures(cx: ExportContext, m: VisionTransformer, x: Value): Value {
  const g = cx.g;
  const patches = cx.call(m.patch_embed, x);
  const prefix = [g.expandBatch(cx.weight(m.cls_token, 'cls_token'), x)];
  if (m instanceof DistilledVisionTransformer) prefix.push(g.expandBatch(cx.weight(m.dist_token, 'dist_token'), x));
  const t = g.add(g.concat([...prefix, patches], 1), cx.weight(m.pos_embed, 'pos_embed'));
  return cx.call(m.norm, cx.call(m.blocks, cx.call(m.pos_drop, t)));
}

registerExporter(VisionTransformer, (cx, m, x) => cx.call(m.head, cx.g.gather(vitFeatures(cx, m, x), 1, 0)));

registerExporter(DistilledVisionTransformer, (cx, m, x) => {
  const g = cx.g;
  const r = cx.options.readout ?? m.readout;
  const f = vitFeatures(cx, m, x);
  const cls = () => cx.call(m.head, g.gather(f, 1, 0));
  const dist = () => cx.call(m.head_dist, g.gather(f, 1, 1));
  switch (r) {
    case 'cls': return cls();
    case 'dist': return dist();
    case 'mean': return g.div(g.add(cls(), dist()), g.scalar(2));
    case 'cskd_mean3': {
      // CSKD's inference: (head(cls) + head_dist(dist) + mean over patches of head_dist(patch)) / 3
      const patches = cx.call(m.head_dist, g.slice(f, 1, 2, f.shape[1]));
      return g.div(g.add(g.add(cls(), dist()), g.reduceMean(patches, [1], false)), g.scalar(3));
    }
    default: throw new ExportError(`DeiT '${cx.path(m) || 'model'}': unknown read-out '${r}' (mean, cls, dist, cskd_mean3)`);
  }
});

registerExporter(CivT, (cx, m, x) => {
  const g = cx.g;
  const stem = (e: CivT['conv_embed']) => {
    const y = cx.call(e.proj, cx.call(e.stem, x));             // [B, D, gh, gw]
    return g.transpose(g.reshape(y, [0, 0, -1]), [0, 2, 1]);   // [B, N, D]
  };
  const xc = stem(m.conv_embed), xi = stem(m.inv_embed);
  const t = g.add(g.concat([g.expandBatch(cx.weight(m.cls_token, 'cls_token'), x), g.reduceMean(xc, [1], true), g.reduceMean(xi, [1], true), g.add(xc, xi)], 1),
    cx.weight(m.pos_embed, 'pos_embed'));
  const f = cx.call(m.norm, cx.call(m.blocks, cx.call(m.pos_drop, t)));
  const head = (h: Module, i: number) => cx.call(h, g.gather(f, 1, i));
  const r = cx.options.readout ?? m.readout;
  switch (r) {
    case 'mean': case 'mean3': return g.div(g.add(g.add(head(m.head, 0), head(m.head_conv, 1)), head(m.head_inv, 2)), g.scalar(3));
    case 'cls': return head(m.head, 0);
    case 'conv': return head(m.head_conv, 1);
    case 'inv': return head(m.head_inv, 2);
    default: throw new ExportError(`CivT '${cx.path(m) || 'model'}': unknown read-out '${r}' (mean, cls, conv, inv)`);
  }
});

registerExporter(MixerBlock, (cx, m, x) => {
  const g = cx.g;
  const tok = g.transpose(cx.call(m.mlp_tokens, g.transpose(cx.call(m.norm1, x), [0, 2, 1])), [0, 2, 1]);
  const a = g.add(x, cx.call(m.drop_path, tok));
  return g.add(a, cx.call(m.drop_path, cx.call(m.mlp_channels, cx.call(m.norm2, a))));
});
registerExporter(MlpMixer, (cx, m, x) => {
  const f = cx.call(m.norm, cx.call(m.blocks, cx.call(m.stem, x)));
  return cx.call(m.head, cx.g.reduceMean(f, [1], false));
});

// ---- CNNs -----------------------------------------------------------------------------------------

/** Global average pool to [N, C] then the classifier (eval: dropout is the identity). */
const poolFc = (cx: ExportContext, fc: Module | null, x: Value) => {
  const y = cx.g.reduceMean(x, [2, 3], false);
  return fc ? cx.call(fc, y) : y;
};
const residual = (cx: ExportContext, m: { downsample: Module | null; drop_path: Module | null; preact: Module }, y: Value, x: Value, act: Module) => {
  if (m.drop_path) y = cx.call(m.drop_path, y);
  const shortcut = m.downsample ? cx.call(m.downsample, x) : x;
  return cx.call(act, cx.call(m.preact, cx.g.add(y, shortcut)));
};

registerExporter(BasicBlock, (cx, m, x) => {
  let y = cx.call(m.act1, cx.call(m.bn1, cx.call(m.conv1, x)));
  y = cx.call(m.bn2, cx.call(m.conv2, y));
  return residual(cx, m, y, x, m.act2);
});
registerExporter(Bottleneck, (cx, m, x) => {
  let y = cx.call(m.act1, cx.call(m.bn1, cx.call(m.conv1, x)));
  y = cx.call(m.act2, cx.call(m.bn2, cx.call(m.conv2, y)));
  y = cx.call(m.bn3, cx.call(m.conv3, y));
  return residual(cx, m, y, x, m.act3);
});
registerExporter(ResNet, (cx, m, x) => {
  let y = cx.call(m.maxpool, cx.call(m.act1, cx.call(m.bn1, cx.call(m.conv1, x))));
  for (const l of m.layers) y = cx.call(l, y);
  return poolFc(cx, m.fc, y);
});

registerExporter(CifarBasicBlock, (cx, m, x) => {
  let y = cx.call(m.relu, cx.call(m.bn1, cx.call(m.conv1, x)));
  y = cx.call(m.bn2, cx.call(m.conv2, y));
  const shortcut = m.downsample ? cx.call(m.downsample, x) : x;
  return cx.g.unary('Relu', cx.call(m.preact, cx.g.add(y, shortcut)));
});
registerExporter(CifarResNet, (cx, m, x) => {
  let y = cx.call(m.relu, cx.call(m.bn1, cx.call(m.conv1, x)));
  for (const l of m.layers) y = cx.call(l, y);
  return poolFc(cx, m.fc, y);
});

registerExporter(WideBasicBlock, (cx, m, x) => {
  const a = cx.call(m.relu1, cx.call(m.bn1, x));
  const y = cx.call(m.conv2, cx.call(m.relu2, cx.call(m.bn2, cx.call(m.conv1, a))));
  return cx.g.add(m.convShortcut ? cx.call(m.convShortcut, a) : x, y);
});
registerExporter(NetworkBlock, (cx, m, x) => cx.call(m.layer, x));
registerExporter(WideResNet, (cx, m, x) => {
  const y = cx.call(m.block3, cx.call(m.block2, cx.call(m.block1, cx.call(m.conv1, x))));
  return poolFc(cx, m.fc, cx.call(m.relu, cx.call(m.bn1, y)));
});

registerExporter(ConvNormAct, (cx, m, x) => {
  let y = cx.call(m.conv, x);
  if (m.bn) y = cx.call(m.bn, y);
  if (m.act) y = cx.call(m.act, y);
  return y;
});
registerExporter(ClassifierHead, (cx, m, x) => {
  let y = x.shape.length === 4 ? cx.g.reduceMean(x, [2, 3], false) : x;
  if (m.drop) y = cx.call(m.drop, y);
  return m.fc ? cx.call(m.fc, y) : y;
});
registerExporter(SqueezeExcite, (cx, m, x) => {
  const s = cx.g.reduceMean(x, [2, 3], true);
  return cx.g.mul(x, cx.g.unary('Sigmoid', cx.call(m.fc2, cx.call(m.act, cx.call(m.fc1, s)))));
});
registerExporter(RegBottleneck, (cx, m, x) => {
  let y = cx.call(m.conv2, cx.call(m.conv1, x));
  if (m.se) y = cx.call(m.se, y);
  y = cx.call(m.conv3, y);
  return residual(cx, m, y, x, m.act3);
});
registerExporter(RegStage, (cx, m, x) => {
  let y = x;
  for (const b of m.blocks) y = cx.call(b, y);
  return y;
});
registerExporter(RegNet, (cx, m, x) => {
  let y = cx.call(m.stem, x);
  for (const s of m.stageModules) y = cx.call(s, y);
  return cx.call(m.head, y);
});

registerExporter(RedBottleneck, (cx, m, x) => {
  let y = cx.call(m.act1, cx.call(m.bn1, cx.call(m.conv1, x)));
  y = cx.call(m.act2, cx.call(m.bn2, cx.call(m.conv2, y)));
  y = cx.call(m.bn3, cx.call(m.conv3, y));
  return residual(cx, m, y, x, m.act3);
});
registerExporter(RedNet, (cx, m, x) => {
  let y = cx.call(m.maxpool, cx.call(m.stem, x));
  for (const l of m.layers) y = cx.call(l, y);
  return cx.call(m.head, y);
});

registerExporter(TinyCnn, (cx, m, x) => {
  const f = cx.call(m.features, x);
  return cx.call(m.fc, cx.g.flatten(cx.g.op('GlobalAveragePool', [f], [f.shape[0], f.shape[1], 1, 1]), 1));
});
