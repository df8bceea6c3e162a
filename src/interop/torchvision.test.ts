import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  convertTorchvisionStateDict, registerConverter, listConverters, loadSafetensorsStateDict, rawToTensor,
} from './torchvision';
// the family converters live beside their models and register when the zoo loads
import { torchvisionRegNetKey } from '../models/regnet';
import '../models';
import { writeSafetensorsFile, fromTypedArray as rawFromTypedArray } from './safetensors';

test('regnet_y_*: torchvision names → timm names', () => {
  const cases: [string, string][] = [
    ['stem.0.weight', 'stem.conv.weight'],
    ['stem.1.running_var', 'stem.bn.running_var'],
    ['stem.1.num_batches_tracked', 'stem.bn.num_batches_tracked'],
    ['trunk_output.block1.block1-0.proj.0.weight', 's1.b1.downsample.conv.weight'],
    ['trunk_output.block1.block1-0.proj.1.bias', 's1.b1.downsample.bn.bias'],
    ['trunk_output.block2.block2-2.f.a.0.weight', 's2.b3.conv1.conv.weight'],
    ['trunk_output.block2.block2-2.f.a.1.running_mean', 's2.b3.conv1.bn.running_mean'],
    ['trunk_output.block3.block3-5.f.b.0.weight', 's3.b6.conv2.conv.weight'],
    ['trunk_output.block3.block3-5.f.b.1.weight', 's3.b6.conv2.bn.weight'],
    ['trunk_output.block4.block4-0.f.se.fc1.weight', 's4.b1.se.fc1.weight'],
    ['trunk_output.block4.block4-0.f.se.fc2.bias', 's4.b1.se.fc2.bias'],
    ['trunk_output.block4.block4-11.f.c.0.weight', 's4.b12.conv3.conv.weight'],
    ['trunk_output.block4.block4-11.f.c.1.bias', 's4.b12.conv3.bn.bias'],
    ['fc.weight', 'head.fc.weight'],
    ['fc.bias', 'head.fc.bias'],
  ];
  for (const [tv, civet] of cases) assert.equal(torchvisionRegNetKey(tv), civet, tv);
  const sd = new Map(cases.map(([k], i) => [k, i]));
  const out = convertTorchvisionStateDict('regnet_y_400mf', sd);
  assert.deepEqual([...out.keys()], cases.map(([, c]) => c));
  assert.deepEqual([...out.values()], cases.map((_, i) => i), 'values pass through in order');
  assert.equal(convertTorchvisionStateDict('regnety_600mf', new Map([['fc.bias', 1]])).get('head.fc.bias'), 1);
});

test('unknown keys and architectures are errors that name them', () => {
  assert.throws(() => convertTorchvisionStateDict('regnet_y_400mf', new Map([['trunk_output.block1.block1-0.f.d.0.weight', 0], ['foo', 1]])),
    /cannot convert 2 torchvision key\(s\): trunk_output\.block1\.block1-0\.f\.d\.0\.weight, foo/);
  assert.throws(() => convertTorchvisionStateDict('resnet18', new Map([['layer1.0.conv1.weight', 0], ['trunk_output.x', 1]])), /trunk_output\.x/);
  assert.throws(() => convertTorchvisionStateDict('mobilenet_v3_small', new Map()), /no torchvision converter for 'mobilenet_v3_small' \(registered prefixes: .*regnet_y_/);
});

test('resnet*: identity; rednet*: mmcls backbone prefix dropped', () => {
  const keys = ['conv1.weight', 'bn1.running_mean', 'layer1.0.conv1.weight', 'layer3.0.downsample.0.weight', 'layer3.0.downsample.1.num_batches_tracked', 'layer4.2.bn3.weight', 'fc.bias'];
  assert.deepEqual([...convertTorchvisionStateDict('resnet50', new Map(keys.map((k) => [k, k]))).keys()], keys);
  const red = convertTorchvisionStateDict('rednet26', { 'backbone.stem.1.conv1.conv.weight': 1, 'head.fc.weight': 2, 'backbone.layer1.0.conv2.conv2.conv.bias': 3 });
  assert.deepEqual([...red.keys()], ['stem.1.conv1.conv.weight', 'head.fc.weight', 'layer1.0.conv2.conv2.conv.bias']);
});

test('registerConverter: the longest matching prefix wins', () => {
  registerConverter('regnet_y_test_', <V>(sd: Map<string, V>) => new Map([...sd].map(([k, v]) => [`x.${k}`, v] as [string, V])));
  assert.ok(listConverters().includes('regnet_y_test_'));
  assert.deepEqual([...convertTorchvisionStateDict('regnet_y_test_1', new Map([['a', 1]])).keys()], ['x.a']);
  assert.deepEqual([...convertTorchvisionStateDict('regnet_y_400mf', new Map([['fc.weight', 1]])).keys()], ['head.fc.weight']);
  assert.throws(() => registerConverter('', (sd) => sd), /empty/);
});

test('loadSafetensorsStateDict reads every dtype the models use', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-tv-'));
  try {
    const file = path.join(dir, 'w.safetensors');
    writeSafetensorsFile(file, [
      ['a.weight', rawFromTypedArray('F32', [2, 2], new Float32Array([1, 2, 3, 4]))],
      ['a.num_batches_tracked', rawFromTypedArray('I64', [], new BigInt64Array([7n]))],
      ['b', rawFromTypedArray('F64', [3], new Float64Array([0.5, -1, 2]))],
    ]);
    const sd = loadSafetensorsStateDict(file);
    assert.deepEqual(sd.get('a.weight')!.toArray(), [[1, 2], [3, 4]]);
    assert.equal(sd.get('a.weight')!.dtype, 'float32');
    assert.equal(sd.get('a.num_batches_tracked')!.dtype, 'int64');
    assert.equal(sd.get('a.num_batches_tracked')!.item(), 7);
    assert.equal(sd.get('b')!.dtype, 'float64');
    for (const t of sd.values()) t.dispose();
    const t = rawToTensor(rawFromTypedArray('U8', [2], new Uint8Array([3, 4])));
    assert.equal(t.dtype, 'uint8');
    t.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
