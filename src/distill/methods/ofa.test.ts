// OFA's ViT branch design (Hao-Ning/OFAKD, distillers/ofa.py): merge_num = max(floor(log2(grid/7)), 0) Swin-style
// patch merges ahead of the branch blocks, class tokens passing through; CNN branches end at
// max(dim_s, dim_t). Shapes and the number of merges are checked here; training is in
// crossarch/crossarch.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDistiller } from '../registry';
import { createModel } from '../../models/registry';
import { Module } from '../../nn/module';
import { randn, randint, tidy } from '../../tensor';
import { PatchMerging, mergeCount, Ofa } from './crossarch/ofa';
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
