// Feature-based classic methods on a Fashion-MNIST subset; one teacher (resnet14, same widths as
// resnet8 so FSP applies) trained once.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import '../../index';
import { createDistiller } from '../../registry';
import { loadData, batcher, makeModel, trainTeacher, firstLast } from '../../../train/testkit';
import { fit, accuracy } from '../../../train/fit';
import type { CRD } from './crd';

const d = loadData();
const { teacher, acc: teacherAcc } = trainTeacher(d, 'resnet14', 200);
const STEPS = 100;
const ctx = () => ({ student: makeModel('resnet8'), teachers: [teacher], numClasses: 10, imgSize: 28, inChans: 1 });

const cases: [string, Record<string, unknown>, string[]][] = [
  ['fitnets', {}, []],
  ['fitnets', { hintSteps: 30 }, ['ce']],
  ['at', {}, []],
  ['sp', {}, []],
  ['rkd', {}, []],
  ['pkt', {}, []],
  ['fsp', { initSteps: 40 }, []],
  ['crd', { memory: 'queue', nceK: 256 }, []],
  ['crd', { memory: 'bank', nceK: 64, numData: 300 }, []],
  ['ofd', {}, []],
];
for (const [name, opts, skip] of cases) {
  test(`${name} ${JSON.stringify(opts)}`, () => {
    const dist = createDistiller(name, ctx(), opts);
    if (name === 'crd' && opts.memory === 'bank') (dist as CRD).setLabels(d.labels);
    const hist = fit(dist, batcher(d, 32, 2), { steps: STEPS, lr: 0.05 });
    dist.eval();
    const acc = accuracy((x) => dist.predict(x), d.xTest, d.yTest);
    assert.ok(acc > 0.3, `${name}: student accuracy ${acc} (teacher ${teacherAcc})`);
    for (const [k, v] of Object.entries(hist)) {
      if (skip.includes(k)) continue;
      const [a, b] = firstLast(v, Math.min(15, Math.floor(v.length / 3)));
      assert.ok(b < a, `${name}: term ${k} did not decrease (${a} → ${b})`);
    }
  });
}
