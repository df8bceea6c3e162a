// The stages that OFA and TAS branch from, numbered 1..n the same way for every student and teacher.
//
// OFAKD numbers a CNN's stages by its residual layers (timm ResNets: layer1..layer4 are stage_info(1..4);
// Hao840/OFAKD custom_forward/resnet.py), never by the stem. civet's models list their stem first in
// stages() (ResNet 'act1', CIFAR ResNet 'relu', RedNet/RegNet 'stem', WRN 'conv1'), so the stem is dropped
// here: ResNet-18 → layer1..layer4, CIFAR ResNet-20 → layer1..layer3, RedNet-26 → layer1..layer4.
// Token models (ViT, DeiT, CivT) list only blocks and keep all of them.
import type { StageInfo } from '../../../nn/module';
import type { Classifier } from '../../../models/registry';

/** Names a CNN's stem goes by in civet's stages() (always the first entry when present). */
const STEM = /^(act1|stem|conv1|bn1|relu)$/;

/** The body stages of a model: its stages() without a leading CNN stem. */
export function bodyStages(m: Classifier, method: string): StageInfo[] {
  if (typeof (m as any).stages !== 'function') throw new Error(`${method}: ${m.constructor.name} does not list its stages()`);
  const all = m.stages();
  const body = all.length > 0 && all[0].layout === 'map' && STEM.test(all[0].name) ? all.slice(1) : all;
  if (!body.length) throw new Error(`${method}: ${m.constructor.name} has no stages after its stem`);
  return body;
}
