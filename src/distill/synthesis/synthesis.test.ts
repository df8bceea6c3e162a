// Data-free synthesis (DeepInversion / Knowledge Within / ADI) and active mixup on Fashion-MNIST.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '../index';
import { createDistiller } from '../registry';
import { F, fromTypedArray } from '../../tensor';
import { loadData, batcher, makeModel, trainTeacher, firstLast } from '../../train/testkit';
import { fit, accuracy } from '../../train/fit';
import { synthesizeImages, saveImageGrid, bnStatisticsOf, DEEPINVERSION_CIFAR_DEFAULTS } from './deepinversion';
import { SoftTargetStudent } from './active_mixup';
import { activeMixup } from '../../train/schemes';
import { Rng } from '../../util/rng';

const d = loadData();
const { teacher, acc: teacherAcc } = trainTeacher(d, 'resnet14', 200);

for (const metric of ['l2', 'gaussianKL'] as const) {
  test(`BN-statistics synthesis (${metric}), PNG grid, KD on the synthesized images`, async () => {
    const noise = (require('../../tensor') as typeof import('../../tensor')).randn([60, 1, 28, 28]);
    const before = bnStatisticsOf(teacher, noise, 'l2');
    const { images, targets, history } = synthesizeImages(teacher, {
      ...DEEPINVERSION_CIFAR_DEFAULTS, batchSize: 60, numClasses: 10, shape: [1, 28, 28], iterations: 200, lr: metric === 'l2' ? 0.1 : 0.2, metric, rFeature: 1, tvL2: 1e-3,
    });
    const after = bnStatisticsOf(teacher, images, 'l2');
    assert.ok(after < before / 4, `bn_statistics ${before} → ${after}`);
    const [h0, h1] = firstLast(history, 10);
    assert.ok(h1 < h0 / 3, `${metric} loss ${h0} → ${h1}`);
    // the teacher recognises its targets on the synthesized images
    const tAcc = accuracy((x) => teacher.call(x), images, targets);
    assert.ok(tAcc > 0.5, `teacher accuracy on synthesized images ${tAcc}`);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civet-di-')), 'grid.png');
    await saveImageGrid(images, file, { mean: [0.286], std: [0.353], cols: 10 });
    assert.ok(fs.statSync(file).size > 100);
    assert.deepEqual([...fs.readFileSync(file).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    if (metric === 'l2') {
      // KD from the teacher on the synthesized set only
      const dist = createDistiller('kd', { student: makeModel('resnet8'), teachers: [teacher], numClasses: 10, imgSize: 28, inChans: 1 }, { ceWeight: 0, kdWeight: 1 });
      const rng = new Rng(3);
      const hist = fit(dist, () => {
        const idx = fromTypedArray(Int32Array.from({ length: 32 }, () => rng.int(60))).to('int64');
        return { x: images.indexSelect(0, idx), y: targets.indexSelect(0, idx) };
      }, { steps: 100 });
      const [a, b] = firstLast(hist.kd);
      assert.ok(b < a, `kd on synthesized images ${a} → ${b}`);
      const acc = accuracy((x) => dist.predict(x), d.xTest, d.yTest);
      assert.ok(acc > 0.2, `data-free student accuracy on real test images ${acc} (teacher ${teacherAcc})`);
    }
  });
}

test('adaptive DeepInversion: the competition term is used and the BN loss still falls', () => {
  const student = makeModel('resnet8');
  fit(createDistiller('kd', { student, teachers: [teacher], numClasses: 10, imgSize: 28, inChans: 1 }), batcher(d, 32, 5), { steps: 40 });
  const adi: number[] = [];
  const { history } = synthesizeImages(teacher, {
    ...DEEPINVERSION_CIFAR_DEFAULTS, batchSize: 40, numClasses: 10, shape: [1, 28, 28], iterations: 80, adiScale: 1, tvL2: 1e-3,
    onStep: (_i, t) => adi.push(t.adi),
  }, student);
  assert.ok(adi.every((v) => v >= 0 && v <= 1) && adi.some((v) => v > 0));
  const [h0, h1] = firstLast(history, 10);
  assert.ok(h1 < h0 / 3, `bn loss ${h0} → ${h1}`);
});

test('active mixup with a black-box teacher', () => {
  const n = 100;
  const images = d.x.narrow(0, 0, n);
  const query = (x: any) => F.softmax(teacher.call(x), 1);
  let trained = 0;
  const { student, x, queries } = activeMixup({
    queryTeacher: query, images, makeStudent: () => makeModel('resnet8'), stages: 1, queriesPerStage: 100, maxPairs: 600,
    train: (s, xs, soft) => {
      const rng = new Rng(trained++);
      const hist = fit(new SoftTargetStudent(s), () => {
        const idx = fromTypedArray(Int32Array.from({ length: 32 }, () => rng.int(xs.shape[0]))).to('int64');
        return { x: xs.indexSelect(0, idx), y: idx, soft: soft.indexSelect(0, idx) };
      }, { steps: 60 });
      const [a, b] = firstLast(hist.soft_ce);
      assert.ok(b < a);
    },
  });
  assert.equal(x.shape[0], 200);
  assert.equal(queries, 200);
  student.eval();
  assert.ok(accuracy((z) => student.call(z), d.xTest, d.yTest) > 0.25);
});
