// TAS wiring, checked deterministically on untrained models (no accuracy bars): the default split
// (the assistant shares the student's stages 1..n-1 and adds the teacher's last stage), the
// teacher-style stage built from the teacher's own block type, which parameters each term's
// gradient reaches (student S1..S3 through the assistant's CE, never the student's last stage;
// the assistant never through A→S), and the loss pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDistiller } from '../../registry';
import { createModel, Classifier } from '../../../models/registry';
import { Module } from '../../../nn/module';
import { Tensor, randn, randint, noGrad, tidy, manualSeed } from '../../../tensor';
import { RedBottleneck } from '../../../models/rednet';
import { Bottleneck } from '../../../models/resnet';
import { CifarBasicBlock } from '../../../models/cifar_resnet';
import { Block } from '../../../nn/layers';
import { infoNce, spatialSmooth, tokensToMap } from '../../losses/tas';
import { Tas } from './tas';
import '../../index';
import '../../../models';

const cnn = (name: string, o: Record<string, unknown> = {}) => createModel(name, { numClasses: 10, inChans: 1, imgSize: 32, ...o });
const tas = (student: Classifier, teacher: Classifier, options: Record<string, unknown> = {}) =>
  createDistiller('tas', { student, teachers: [teacher], numClasses: 10, imgSize: 32, inChans: 1 }, options) as Tas;

test('tas loss pieces', () => {
  manualSeed(0);
  noGrad(() => {
    const q = randn([8, 16]);
    // a query that equals its key is matched with near certainty at a low temperature
    assert.ok(infoNce(q, q, 0.05).item() < 0.1);
    assert.ok(infoNce(q, randn([8, 16]), 0.1).item() > 0.5);
    assert.deepEqual(spatialSmooth(randn([2, 3, 7, 7]), 2).shape, [2, 12]);
    assert.deepEqual(tokensToMap(randn([2, 1 + 49, 5]), 1).shape, [2, 5, 7, 7]);
  });
});

test('tas default split: student stages 1..n-1 shared, the teacher\'s last stage added (ResNet-18 ← ResNet-50)', () => {
  const d = tas(cnn('resnet18'), cnn('resnet50'));
  assert.equal(d.split, 3);
  assert.equal(d.splitName, 'layer3');          // never the stem: layer1..layer4 are stages 1..4
  assert.equal(d.teacherStage, 3);
  assert.deepEqual(d.assistant.blockKinds, ['bottleneck']);
  const blocks = [...d.assistant.stages];
  assert.equal(blocks.length, 1);
  assert.ok(blocks[0] instanceof Bottleneck);
  assert.equal(d.assistant.outChannels, 2048);
  assert.equal(d.assistant.l2g.cout, 1024);      // L2G plays the teacher's layer3 output
  d.dispose();
});

test('tas teacher-style stage: involution for RedNet-26, basic block for CIFAR ResNet-20; CIFAR student split at layer2', () => {
  const red = tas(cnn('resnet20'), cnn('rednet26', { baseWidth: 32 }));
  assert.equal(red.splitName, 'layer2');        // CIFAR ResNet-20: stem 'relu' is not a stage → layer1..3
  assert.deepEqual(red.assistant.blockKinds, ['involution']);
  assert.ok([...red.assistant.stages][0] instanceof RedBottleneck);
  red.dispose();
  const res = tas(cnn('resnet20'), cnn('resnet20'));
  assert.deepEqual(res.assistant.blockKinds, ['cifar_basic']);
  assert.ok([...res.assistant.stages][0] instanceof CifarBasicBlock);
  assert.equal(res.teacherStage, 2);
  res.dispose();
  const vt = createModel('deit_tiny', { numClasses: 10, imgSize: 32, patchSize: 4, inChans: 1, embedDim: 24, depth: 4, numHeads: 2 });
  const vit = tas(cnn('resnet8'), vt);
  assert.deepEqual(vit.assistant.blockKinds, ['transformer']);
  assert.ok([...vit.assistant.stages][0] instanceof Block);
  vit.dispose();
});

/** Parameter names of `m` (prefixed) that get a non-zero gradient from `term` of one training step. */
function reached(d: Tas, term: string, x: Tensor, y: Tensor): Set<string> {
  for (const p of d.parameters()) p.grad = null;
  tidy(() => d.trainStep({ x, y }).terms[term].backward());
  const out = new Set<string>();
  for (const [n, p] of d.namedParameters()) if (p.grad && p.grad.abs().sum().item() > 0) out.add(n);
  return out;
}

test('tas gradients: the assistant\'s CE trains student S1..S(n-1) (weight sharing), never S(n); A→S never trains the assistant', () => {
  manualSeed(1);
  const d = tas(cnn('resnet8'), cnn('resnet8'));   // resnet8: layer1..3, split after layer2
  d.train();
  const x = randn([4, 1, 32, 32]), y = randint(0, 10, [4]);
  const gtA = reached(d, 'gt_a', x, y);
  const has = (set: Set<string>, prefix: string) => [...set].some((n) => n.startsWith(prefix));
  assert.ok(has(gtA, 'student.layer1.'), 'assistant CE must reach the shared student layer1');
  assert.ok(has(gtA, 'student.layer2.'), 'assistant CE must reach the shared student layer2');
  assert.ok(!has(gtA, 'student.layer3.') && !has(gtA, 'student.fc.'), 'assistant CE must not reach the student\'s own last stage or head');
  assert.ok(has(gtA, 'assistant.stages.'), 'assistant CE trains the teacher-style stage');
  const as = reached(d, 'ofa_as', x, y);
  assert.ok(!has(as, 'assistant.'), `A→S must not train the assistant (reached ${[...as].filter((n) => n.startsWith('assistant.'))})`);
  assert.ok(has(as, 'student.fc.'));
  const gt = reached(d, 'gt', x, y);
  assert.ok(!has(gt, 'assistant.'));
  d.dispose();
});

test('tas: bad setups are clear errors', () => {
  assert.throws(() => tas(cnn('resnet8'), cnn('resnet8'), { split: 7 }), /split 7 does not exist/);
  assert.throws(() => tas(cnn('resnet8'), cnn('resnet8'), { pairs: ['xy'] }), /options\.pairs\.0: expected one of 'ts', 'ta', 'as', got 'xy'/);
});
