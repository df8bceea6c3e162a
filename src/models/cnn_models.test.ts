import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, randint, tidy, F, noGrad, liveTensors, manualSeed } from '../tensor';
import { tapFeatures } from '../nn/module';
import { DropPath } from '../nn/layers';
import { createModel, listModels, modelEntry } from './registry';
import type { StageInfo } from '../nn/module';
import { roundHalfEven, dropPathRates } from './cnn_common';
import { CIFAR_PARAMS_AT_100 } from './cifar_resnet';
import { regnetWidths, REGNETY_CFGS, RegNet } from './regnet';
import { ResNet } from './resnet';
import './resnet';
import './cifar_resnet';
import './regnet';
import './rednet';

const IMAGENET = ['resnet18', 'resnet34', 'resnet50', 'regnety_200mf', 'regnety_400mf', 'regnety_600mf', 'regnety_4gf', 'rednet26', 'rednet38', 'rednet50', 'rednet101'];
const CIFAR = ['resnet8', 'resnet14', 'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110', 'resnet8x4', 'resnet32x4', 'wrn_16_1', 'wrn_16_2', 'wrn_40_1', 'wrn_40_2'];

test('every CNN is registered under its family', () => {
  assert.deepEqual(listModels('resnet'), ['resnet18', 'resnet34', 'resnet50']);
  assert.deepEqual(listModels('regnet'), ['regnety_200mf', 'regnety_400mf', 'regnety_4gf', 'regnety_600mf']);
  assert.deepEqual(listModels('rednet'), ['rednet101', 'rednet26', 'rednet38', 'rednet50']);
  assert.deepEqual(listModels('wrn'), ['wrn_16_1', 'wrn_16_2', 'wrn_40_1', 'wrn_40_2']);
  assert.equal(listModels('cifar_resnet').length, 9);
});

// rednet38/101 share every module with rednet26/50 (only depths differ): counted below, not run here.
for (const name of [...IMAGENET.filter((n) => n !== 'rednet38' && n !== 'rednet101'), ...CIFAR]) {
  const size = name.startsWith('rednet') ? 32 : IMAGENET.includes(name) ? 64 : 32;
  test(`${name}: forward + backward at 2×3×${size}×${size}, stages match the tapped features`, () => {
    manualSeed(1);
    const before = liveTensors();
    const m = createModel(name, { numClasses: 10 });
    assert.equal(m.numClasses, 10);
    tidy(() => {
      const x = randn([2, 3, size, size]);
      const stages = m.stages() as StageInfo[];
      assert.ok(stages.length >= 4);
      const taps = stages.flatMap((s) => (s.preact ? [s.name, s.preact] : [s.name]));
      const { result: logits, features } = tapFeatures(m, taps, () => m.forward(x));
      assert.deepEqual(logits.shape, [2, 10]);
      for (const s of stages) {
        const f = features.get(s.name);
        assert.ok(f, `stage ${s.name} was not tapped`);
        const hw = size / s.stride;
        assert.deepEqual(f.shape, [2, s.channels, hw, hw], `stage ${s.name}`);
        assert.equal(s.layout, 'map');
        if (s.preact) assert.deepEqual(features.get(s.preact)!.shape, f.shape, `preact ${s.preact}`);
      }
      // the last stage feeds the head
      const last = stages[stages.length - 1];
      assert.equal((m as any).numFeatures, last.channels);
      const loss = F.cross_entropy(logits, randint(0, 10, [2]));
      assert.ok(Number.isFinite(loss.item()));
      loss.backward();
      const noGradParams = [...m.namedParameters()].filter(([, p]) => { const g = p.grad; g?.dispose(); return g === null; }).map(([n]) => n);
      assert.deepEqual(noGradParams, []);
    });
    m.dispose();
    assert.equal(liveTensors(), before, 'tensors leaked');
  });
}

test('parameter counts at 1000 classes equal the published figures', () => {
  const expected: Record<string, number> = {
    resnet18: 11_689_512, resnet34: 21_797_672, resnet50: 25_557_032,
    regnety_200mf: 3_162_996, regnety_400mf: 4_344_144, regnety_600mf: 6_055_160, regnety_4gf: 20_646_656,
  };
  for (const name of IMAGENET) {
    const m = createModel(name);
    const n = m.numParameters();
    m.dispose();
    assert.equal(n, modelEntry(name)!.publishedParams, name);
    if (name in expected) assert.equal(n, expected[name], name);
  }
});

test('RedNet counts: within 0.5% of the paper (9.23M / 15.54M), exact to the civt-step teacher', () => {
  const count = (name: string, numClasses?: number) => { const m = createModel(name, { numClasses }); const n = m.numParameters(); m.dispose(); return n; };
  const r26 = count('rednet26'), r50 = count('rednet50');
  assert.ok(Math.abs(r26 / 9.23e6 - 1) < 0.005, `rednet26 ${r26}`);
  assert.ok(Math.abs(r50 / 15.54e6 - 1) < 0.005, `rednet50 ${r50}`);
  assert.ok(Math.abs(r50 / 15.5e6 - 1) < 0.005, `rednet50 ${r50}`);
  // shared/reference/torch_bench.py rednet26(10), the teacher the civt-step benchmark compares against
  assert.equal(count('rednet26', 10), 7_204_656);
  // torchvision regnet_y_400mf(num_classes=10)
  assert.equal(count('regnety_400mf', 10), 3_907_554);
});

test('CIFAR benchmark networks: RepDistiller parameter counts at 100 classes', () => {
  for (const name of CIFAR) {
    const m = createModel(name);
    assert.equal(m.numClasses, 100, `${name} defaults to CIFAR-100`);
    const n = m.numParameters();
    m.dispose();
    assert.equal(n, CIFAR_PARAMS_AT_100[name], name);
  }
  // the CRD paper's table, in millions
  const paper: Record<string, number> = { resnet32x4: 7.43, resnet8x4: 1.23, wrn_40_2: 2.26, wrn_16_2: 0.70, resnet56: 0.86, resnet110: 1.74, resnet20: 0.28 };
  for (const [k, v] of Object.entries(paper)) assert.equal(Math.round(CIFAR_PARAMS_AT_100[k] / 1e4) / 100, v, k);
});

test('RegNetY widths follow timm (numbers from numpy)', () => {
  const want: Record<string, [number[], number[], number[]]> = {
    regnety_200mf: [[24, 56, 152, 368], [1, 1, 4, 7], [8, 8, 8, 8]],
    regnety_400mf: [[48, 104, 208, 440], [1, 3, 6, 6], [8, 8, 8, 8]],
    regnety_600mf: [[48, 112, 256, 608], [1, 3, 7, 4], [16, 16, 16, 16]],
    regnety_4gf: [[128, 192, 512, 1088], [2, 6, 12, 2], [64, 64, 64, 64]],
  };
  for (const [name, [w, d, g]] of Object.entries(want)) {
    assert.deepEqual(regnetWidths(REGNETY_CFGS[name]), { widths: w, depths: d, groupSizes: g }, name);
  }
  assert.throws(() => regnetWidths({ w0: 20, wa: 10, wm: 2, depth: 4, groupSize: 8 }), /w0 % 8/);
});

test('roundHalfEven and dropPathRates', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 37.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 38, 2, 3]);
  assert.deepEqual(dropPathRates([1, 2], 0.2), [[0], [0.1, 0.2]]);
  assert.deepEqual(dropPathRates([1], 0.2), [[0]]);
});

test('state-dict names follow timm / RepDistiller / mmcls', () => {
  const keys = (name: string) => { const m = createModel(name, { numClasses: 10 }); const k = [...m.stateDict().keys()]; m.dispose(); return k; };
  const has = (ks: string[], want: string[]) => { for (const w of want) assert.ok(ks.includes(w), `missing ${w}`); };
  const r18 = keys('resnet18');
  has(r18, ['conv1.weight', 'bn1.running_var', 'layer1.0.conv1.weight', 'layer1.1.bn2.num_batches_tracked', 'layer2.0.downsample.0.weight', 'layer2.0.downsample.1.bias', 'layer4.1.conv2.weight', 'fc.weight', 'fc.bias']);
  assert.ok(!r18.some((k) => k.includes('preact') || k.includes('act')));
  has(keys('resnet50'), ['layer1.0.conv3.weight', 'layer1.0.bn3.weight', 'layer1.0.downsample.0.weight', 'layer4.2.bn3.running_mean']);
  has(keys('regnety_400mf'), ['stem.conv.weight', 'stem.bn.running_mean', 's1.b1.conv1.conv.weight', 's1.b1.conv2.bn.weight', 's1.b1.se.fc1.weight', 's1.b1.se.fc2.bias', 's1.b1.conv3.bn.weight', 's1.b1.downsample.conv.weight', 's4.b6.conv3.conv.weight', 'head.fc.weight']);
  has(keys('rednet26'), ['stem.0.conv.weight', 'stem.0.bn.weight', 'stem.1.conv1.conv.weight', 'stem.1.conv1.bn.running_var', 'stem.1.conv2.conv.weight', 'stem.1.conv2.conv.bias', 'stem.2.weight', 'stem.4.conv.weight', 'stem.4.bn.bias',
    'layer1.0.conv1.weight', 'layer1.0.bn1.weight', 'layer1.0.conv2.conv1.conv.weight', 'layer1.0.conv2.conv2.conv.bias', 'layer1.0.bn2.weight', 'layer1.0.conv3.weight', 'layer1.0.bn3.weight', 'layer1.0.downsample.0.weight', 'layer4.0.downsample.1.running_var', 'head.fc.weight']);
  has(keys('resnet8x4'), ['conv1.weight', 'bn1.weight', 'layer1.0.conv1.weight', 'layer1.0.downsample.0.weight', 'layer3.0.downsample.1.running_mean', 'fc.weight']);
  has(keys('wrn_16_2'), ['conv1.weight', 'block1.layer.0.bn1.weight', 'block1.layer.0.conv1.weight', 'block1.layer.0.convShortcut.weight', 'block1.layer.1.conv2.weight', 'block3.layer.1.bn2.running_var', 'bn1.weight', 'fc.bias']);
});

test('initialisation: BN 1/0, zero-init of last gammas where the reference does it', () => {
  const r = createModel('regnety_200mf', { numClasses: 10 }) as RegNet;
  const sd = r.stateDict();
  assert.equal(sd.get('s2.b1.conv3.bn.weight')!.abs().sum().item(), 0);
  assert.equal(sd.get('s2.b1.conv1.bn.weight')!.sum().item(), sd.get('s2.b1.conv1.bn.weight')!.numel());
  assert.equal(sd.get('head.fc.bias')!.abs().sum().item(), 0);
  const std = sd.get('head.fc.weight')!.std().item();
  assert.ok(std > 0.008 && std < 0.012, `fc std ${std}`);
  r.dispose();
  const a = createModel('resnet18') as ResNet;
  assert.ok(a.stateDict().get('layer1.0.bn2.weight')!.sum().item() === 64);
  // kaiming_normal fan_out: std sqrt(2 / (64·9))
  const w = a.stateDict().get('layer1.0.conv1.weight')!;
  assert.ok(Math.abs(w.std().item() / Math.sqrt(2 / 576) - 1) < 0.05);
  a.dispose();
  const b = createModel('resnet18', { zeroInitResidual: true });
  assert.equal(b.stateDict().get('layer1.0.bn2.weight')!.abs().sum().item(), 0);
  b.dispose();
  const c = createModel('rednet26', { numClasses: 10 });
  assert.equal(c.stateDict().get('layer3.1.bn3.weight')!.abs().sum().item(), 0);
  c.dispose();
});

test('forwardFeatures / forwardHead(preLogits) and eval determinism with dropPath', () => {
  manualSeed(3);
  const m = createModel('resnet18', { numClasses: 7, dropPathRate: 0.2, dropRate: 0.1 }) as ResNet;
  assert.ok([...m.namedModules()].some(([, x]) => x instanceof DropPath));
  tidy(() => {
    const x = randn([2, 3, 64, 64]);
    m.eval();
    const f = m.forwardFeatures(x);
    assert.deepEqual(f.shape, [2, 512, 2, 2]);
    assert.deepEqual(m.forwardHead(f, true).shape, [2, 512]);
    const a = noGrad(() => m.forward(x)), b = noGrad(() => m.forward(x));
    assert.equal(a.sub(b).abs().max().item(), 0);
    m.train();
    assert.deepEqual(m.forward(x).shape, [2, 7]);
  });
  m.dispose();
  const headless = createModel('regnety_200mf', { numClasses: 0 }).eval();
  tidy(() => assert.deepEqual(noGrad(() => headless.forward(randn([1, 3, 32, 32]))).shape, [1, 368]));
  headless.dispose();
});

test('model options are validated', () => {
  assert.throws(() => createModel('resnet18', { numClasses: -1 }), /numClasses/);
  assert.throws(() => createModel('resnet8x4', { numClasses: 2.5 }), /numClasses/);
});
