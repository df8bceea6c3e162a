// The study files civet ships load and check (claims, gains, every run's config), and the main
// job's shipped teacher is the file its recipe names, fit to teach: its SHA-256 matches the one
// recorded beside it and it classifies held-out Fashion-MNIST images as its recipe says. The
// teacher's accuracy is a property of fixed weights evaluated in eval mode (no training, no seed),
// so the bound below cannot drift between machines beyond float rounding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { loadStudy } from './study';
import { buildRun } from '../train/build';
import { evalBatches } from '../train/data';
import { evaluate } from '../train/fit';
import { loadConfig } from '../train/schema';
import '../distill';

const root = path.resolve(__dirname, '../../..');
const studies = path.join(root, 'configs/experiments');

test('every shipped study file loads, with its claims and gains naming real variants', () => {
  const files = fs.readdirSync(studies).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.includes('kd_fmnist_demo.yaml') && files.includes('coadvise_fmnist.yaml'));
  for (const f of files) {
    const { study } = loadStudy(path.join(studies, f));
    assert.ok(Object.keys(study.variants).length > 0, f);
  }
  const demo = loadStudy(path.join(studies, 'kd_fmnist_demo.yaml')).study;
  assert.deepEqual(demo.claims[0].order, ['kd', 'ce']);
  assert.deepEqual(demo.gains.map((g) => [g.method, g.control]), [['kd', 'ce']]);
  assert.deepEqual(demo.study.seeds, [0, 1, 2]);
});

test("the main job's shipped teacher: the recipe's SHA-256, and its accuracy on 1,000 held-out test images", async () => {
  const weights = path.join(root, 'configs/teachers/resnet20_fmnist32.safetensors');
  const recipe = fs.readFileSync(path.join(root, 'configs/teachers/resnet20_fmnist32.yaml'), 'utf8');
  const sha = crypto.createHash('sha256').update(fs.readFileSync(weights)).digest('hex');
  assert.ok(recipe.includes(sha), `recipe does not name the shipped file's SHA-256 ${sha}`);
  // the demo's kd run, built as civet train builds it (the teacher loaded from the study's path)
  const { config: cfg } = loadConfig({
    run: { name: 'teacher-check', threads: 2 },
    student: { model: 'tiny_cnn', options: { width: 16 } },
    teachers: [{ model: 'resnet20', weights }],
    method: { name: 'kd' },
    data: { dataset: 'fashion-mnist', subsetPerClass: 10, testSubsetPerClass: 100, imgSize: 32, channels: 1 },
    optimizer: { name: 'sgd', lr: 0.05 }, epochs: 1, batchSize: 64, eval: { batchSize: 500 },
  } as any);
  const run = await buildRun(cfg, root);
  const teacher = run.teachers[0] as any;
  const r = evaluate((x) => teacher.call(x), evalBatches(cfg, run.data), { numClasses: 10 });
  assert.equal(r.n, 1000);
  // 91.05 % on all 10,000 test images (the recipe); a wrong file, a wrong remap or a wrong input
  // convention gives chance (10 %) to ~60 %
  assert.ok(r.top1 > 0.85 && r.top1 < 0.97, `teacher top-1 ${r.top1} on 1,000 test images`);
});
