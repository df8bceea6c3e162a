// OFD's margin source (official get_bn_before_relu, clovaai/overhaul-distillation): the last
// block's bn2 (basic) / bn3 (bottleneck) of each stage, never the shortcut's BN — which matters in a
// single-block stage, where the last block is also the one with the downsample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../index';
import { createDistiller } from '../../registry';
import { noGrad, tidy } from '../../../tensor';
import { BatchNorm2d } from '../../../nn/layers';
import { overhaulMargin } from '../../losses/classic';
import { makeModel } from '../../../train/testkit';
import { marginBn, OFD } from './ofd';

test('ofd margin: a single-block stage takes the block\'s bn2, not downsample.1 (CIFAR resnet8)', () => tidy(() => {
  const teacher = makeModel('resnet8');   // (8-2)/6 = 1 block per stage; layer2.0 and layer3.0 downsample
  const bn = (p: string) => teacher.getSubmodule(p) as BatchNorm2d;
  // distinct affine parameters, so that the two candidates give different margins
  noGrad(() => {
    for (const g of [2, 3]) {
      bn(`layer${g}.0.bn2`).weight!.fill_(0.7); bn(`layer${g}.0.bn2`).bias!.fill_(0.4);
      bn(`layer${g}.0.downsample.1`).weight!.fill_(1.3); bn(`layer${g}.0.downsample.1`).bias!.fill_(-0.9);
    }
  });
  const stages = teacher.stages();
  for (const g of [1, 2, 3]) assert.equal(marginBn(teacher, stages[g]), bn(`layer${g}.0.bn2`), `layer${g}`);
  const d = createDistiller('ofd', { student: makeModel('resnet8'), teachers: [teacher], numClasses: 10, imgSize: 28, inChans: 1 }) as OFD;
  const margins = (d as any).margins as { toFloat64Array(): Float64Array }[];
  assert.equal(margins.length, 3);
  const want = overhaulMargin(bn('layer3.0.bn2').weight!, bn('layer3.0.bn2').bias!).toFloat64Array();
  const got = margins[2].toFloat64Array();
  got.forEach((v, c) => assert.ok(Math.abs(v - want[c]) < 1e-6, `layer3 margin channel ${c}: ${v} vs ${want[c]}`));
}));

test('ofd margin: a two-block stage takes the last block\'s bn2 (ResNet-18)', () => tidy(() => {
  const t = makeModel('resnet18');
  const st = t.stages().filter((s) => s.name.startsWith('layer'));
  assert.deepEqual(st.map((s) => s.name), ['layer1', 'layer2', 'layer3', 'layer4']);
  for (const s of st) assert.equal(marginBn(t, s), t.getSubmodule(`${s.name}.1.bn2`), s.name);
}));
