// OFA's branch design (Hao840/OFAKD, distillers/ofa.py), checked by wiring on untrained models:
// ViT branches merge max(floor(log2(grid/7)), 0) times, class tokens passing through; every CNN
// branch ends at max(dim_s, dim_t) with dim_s the student's FINAL stage width; stage k taps
// layer k for every CNN (the stem is not a stage); OFAKD's init and label smoothing 0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDistiller } from '../registry';
import { createModel } from '../../models/registry';
import { Module } from '../../nn/module';
import { randn, randint, tidy } from '../../tensor';
import { Conv2d, Linear, Sequential } from '../../nn/layers';
import { PatchMerging, mergeCount, Ofa } from './crossarch/ofa';
import { bodyStages } from './crossarch/stages';
import '../index';
import '../../models';

test('merge count follows OFAKD', () => {
  assert.equal(mergeCount(197), 1);   // 14×14 + cls
  assert.equal(mergeCount(65), 0);    // 8×8 + cls (32 px, patch 4)
  assert.equal(mergeCount(785), 2);   // 28×28 + cls
  assert.equal(mergeCount(49), 0);
});

test('patch merging halves the grid and keeps the class token', () => {
  tidy(() => {
    const m = new PatchMerging(8, 8, 1, true);
    const x = randn([2, 1 + 196, 8]);
    const y = m.call(x);
    assert.deepEqual(y.shape, [2, 1 + 49, 8]);
    assert.ok(y.select(1, 0).sub(x.select(1, 0)).abs().max().item() === 0);
    assert.deepEqual(new PatchMerging(8, 8, 0, false).call(randn([2, 49, 8])).shape, [2, 16, 8]);   // odd grid padded
  });
});

test('ofa on a 14×14-grid ViT: branches merge once and give logits', () => {
  const student = createModel('deit_tiny', { numClasses: 10, imgSize: 56, patchSize: 4, inChans: 1, embedDim: 32, depth: 4, numHeads: 2 });
  const teacher = createModel('resnet8', { numClasses: 10, inChans: 1 });
  const d = createDistiller('ofa', { student, teachers: [teacher], numClasses: 10, imgSize: 56, inChans: 1 }, { stages: [1, 2], eps: [1.5] }) as Ofa;
  const merges = [...(d.branches.at(0) as Module).namedModules()].filter(([, m]) => m instanceof PatchMerging).length;
  assert.equal(merges, 1);
  tidy(() => {
    const out = d.trainStep({ x: randn([4, 1, 56, 56]), y: randint(0, 10, [4]) });
    assert.deepEqual(Object.keys(out.terms).sort(), ['gt', 'kd', 'ofa_s1', 'ofa_s2']);
    for (const t of Object.values(out.terms)) assert.ok(Number.isFinite(t.item()));
  });
  d.dispose();
});

const cnn = (name: string, o: Record<string, unknown> = {}) => createModel(name, { numClasses: 10, inChans: 1, imgSize: 32, ...o });
const ofa = (student: ReturnType<typeof cnn>, teacher: ReturnType<typeof cnn>, options: Record<string, unknown>) =>
  createDistiller('ofa', { student, teachers: [teacher], numClasses: 10, imgSize: 32, inChans: 1 }, options) as Ofa;
/** The width the branch's classifier reads: its final Linear's input features. */
const exitWidth = (d: Ofa, i: number) => ((d.branches.at(i) as Sequential).at(-1) as Linear).inFeatures;

test('bodyStages: layer1..layerN for every CNN, the stem never a stage', () => {
  assert.deepEqual(bodyStages(cnn('resnet18'), 't').map((s) => s.name), ['layer1', 'layer2', 'layer3', 'layer4']);
  assert.deepEqual(bodyStages(cnn('resnet20'), 't').map((s) => s.name), ['layer1', 'layer2', 'layer3']);
  assert.deepEqual(bodyStages(cnn('rednet26', { baseWidth: 32 }), 't').map((s) => s.name), ['layer1', 'layer2', 'layer3', 'layer4']);
});

test('ofa ResNet-18 student: stage k taps layer k, every branch ends at the student\'s final width (512 > teacher 16)', () => {
  const d = ofa(cnn('resnet18'), cnn('tiny_cnn', { width: 4 }), { stages: [1, 2, 3, 4] });
  assert.deepEqual(d.stageNames, ['layer1', 'layer2', 'layer3', 'layer4']);
  assert.deepEqual([0, 1, 2, 3].map((i) => exitWidth(d, i)), [512, 512, 512, 512]);
  // stage 1 (64 ch): 3 SepConvs 64 → 128 → 256 → 512; stage 4: one 1×1 conv 512 → 512
  assert.equal((d.branches.at(0) as Sequential).length, 3 + 3);
  assert.ok((d.branches.at(3) as Sequential).at(0) instanceof Conv2d);
  tidy(() => {
    const out = d.trainStep({ x: randn([2, 1, 32, 32]), y: randint(0, 10, [2]) });
    assert.deepEqual(Object.keys(out.terms).sort(), ['gt', 'kd', 'ofa_s1', 'ofa_s2', 'ofa_s3', 'ofa_s4']);
  });
  d.dispose();
});

test('ofa CIFAR ResNet-20 student: stage 3 is layer3 (not layer2), there is no stage 4, branches end at 64', () => {
  const d = ofa(cnn('resnet20'), cnn('tiny_cnn', { width: 4 }), { stages: [1, 2, 3] });
  assert.deepEqual(d.stageNames, ['layer1', 'layer2', 'layer3']);
  assert.deepEqual([0, 1, 2].map((i) => exitWidth(d, i)), [64, 64, 64]);
  d.dispose();
  assert.throws(() => ofa(cnn('resnet20'), cnn('tiny_cnn', { width: 4 }), { stages: [4] }), /stage 4 does not exist \(the student has 3: layer1, layer2, layer3\)/);
});

test('ofa RedNet-26 student: layer1..4 taps, branches end at max(final student 1024, teacher 64)', () => {
  const d = ofa(cnn('rednet26', { baseWidth: 32 }), cnn('resnet8'), { stages: [1, 4] });
  assert.deepEqual(d.stageNames, ['layer1', 'layer4']);
  assert.deepEqual([exitWidth(d, 0), exitWidth(d, 1)], [1024, 1024]);
  d.dispose();
  // a teacher wider than the student's final stage sets the width
  const w = ofa(cnn('resnet20'), cnn('resnet18'), { stages: [2] });
  assert.equal(exitWidth(w, 0), 512);
  w.dispose();
});

test('ofa branches get OFAKD\'s init and label smoothing 0.1 by default', () => {
  const d = ofa(cnn('resnet18'), cnn('resnet8'), { stages: [1] });
  assert.equal((d as any).o.labelSmoothing, 0.1);
  tidy(() => {
    const b = d.branches.at(0) as Sequential;
    const fc = b.at(-1) as Linear;
    assert.equal(fc.bias!.abs().max().item(), 0);   // nn.Linear's default bias is uniform, not zero
    const std = fc.weight.std().item();
    assert.ok(Math.abs(std - 0.02) < 0.002, `linear std ${std} (trunc normal 0.02; the default would be ≈ 0.026)`);
    // first depthwise 3×3 conv of 64 channels: kaiming fan-out std sqrt(2 / (64·9)) ≈ 0.059 (the fan-in default ≈ 0.19)
    const dw = [...b.namedModules()].map(([, m]) => m).find((m) => m instanceof Conv2d) as Conv2d;
    const s = dw.weight.std().item();
    assert.ok(Math.abs(s - Math.sqrt(2 / (64 * 9))) < 0.006, `depthwise conv std ${s}`);
  });
  d.dispose();
});
