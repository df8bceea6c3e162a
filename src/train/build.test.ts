// One build for train() and `civet eval`: the CLI trains and renders the report (train() does
// not), `civet eval` rebuilds the run through train/build.ts and reproduces the best checkpoint's
// top-1; relative paths resolve against an explicit base directory only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { train } from './trainer';
import { loadConfig, ConfigError } from './schema';
import { buildRun, disposeRun } from './build';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin/civet');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'civet-build-'));

const tiny = (name: string, extra: Record<string, any> = {}) => ({
  run: { name, seed: 1, deterministic: true },
  student: { model: 'tiny_cnn', options: { width: 4 } },
  data: { dataset: 'fashion-mnist', subsetPerClass: 6, testSubsetPerClass: 4, imgSize: 28, channels: 1 },
  optimizer: { name: 'sgd', lr: 0.05 },
  epochs: 2, batchSize: 20, eval: { batchSize: 50 },
  ...extra,
});

test('civet train writes the report; civet eval rebuilds the run and reproduces its best top-1', () => {
  const dir = tmp();
  const file = path.join(dir, 'run.yaml');
  fs.writeFileSync(file, YAML.stringify(tiny('cli')));
  const r = spawnSync(process.execPath, [CLI, 'train', file, '--out', path.join(dir, 'runs'), '--quiet'], { encoding: 'utf8', env: { ...process.env, CIVET_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const runDir = path.join(dir, 'runs', 'cli');
  const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
  assert.equal(summary.report, path.join(runDir, 'report.html'));
  assert.match(fs.readFileSync(summary.report, 'utf8'), /<svg/);
  // from another working directory: config.json holds absolute paths
  const e = spawnSync(process.execPath, [CLI, 'eval', runDir, '--checkpoint', 'best'], { encoding: 'utf8', cwd: os.tmpdir(), env: { ...process.env, CIVET_THREADS: '1' } });
  assert.equal(e.status, 0, e.stderr);
  const top1 = Number(/top-1 ([\d.]+)%/.exec(e.stdout)![1]);
  assert.equal(top1, Number((100 * summary.bestTop1).toFixed(2)));
});

test('relative paths resolve against baseDir, and a config object without one is refused before any work', async () => {
  const dir = tmp();
  const cfg = tiny('rel', { data: { dataset: 'imagefolder', root: 'images', valRoot: 'val', imgSize: 28, channels: 1 } });
  await assert.rejects(train(cfg, { out: path.join(dir, 'runs'), quiet: true }), (err: Error) => err instanceof ConfigError && /relative paths needs TrainOptions\.baseDir/.test(err.message));
  assert.ok(!fs.existsSync(path.join(dir, 'runs')), 'no run folder is created');
  const { config } = loadConfig(cfg);
  await assert.rejects(buildRun(config, 'relative/dir'), /baseDir must be an absolute path/);
  // with an absolute base the data root is looked up there (and is missing: the error names it)
  await assert.rejects(buildRun(config, dir), (err: Error) => err.message.includes(path.join(dir, 'images')));
});

test('buildRun makes the student, the distiller and the data the config names', async () => {
  const { config } = loadConfig(tiny('b', { method: { name: 'label_smoothing' } }));
  const r = await buildRun(config, tmp());
  try {
    assert.equal(r.distiller.method, 'label_smoothing');
    assert.equal(r.distiller.student, r.student);
    assert.equal(r.data.numClasses, 10);
    assert.equal(r.data.train.length, 60);
    assert.equal(r.teachers.length, 0);
  } finally { disposeRun(r); }
});
