// A method's init phase under `civet train` (FSP: RepDistiller helper/pretrain.py before
// train_student.py's main loop): its records, learning rate and terms, no evaluation in it, the
// main schedule counting from its own step 0, and exact resume from a kill inside either phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { train } from './trainer';
import { readSafetensorsFile } from '../interop/safetensors';
import '../distill';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin/civet');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-phases-'));
const cfg = (name: string, extra: Record<string, any> = {}) => ({
  run: { name, seed: 2, deterministic: true },
  student: { model: 'tiny_cnn', options: { width: 4 } },
  data: { dataset: 'fashion-mnist', subsetPerClass: 8, testSubsetPerClass: 4, imgSize: 28, channels: 1 },
  optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4 },
  schedule: { name: 'cosine' },
  epochs: 2, batchSize: 16, checkpoint: { everySteps: 2 }, eval: { batchSize: 40 }, log: { everySteps: 1 },
  ...extra,
});
const records = (runDir: string) => fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const weightsOf = (runDir: string) => {
  const f = readSafetensorsFile(path.join(runDir, 'checkpoints', 'last', 'model.safetensors'));
  return new Map([...f.tensors].map(([k, t]) => [k, Buffer.from(t.data)]));
};
function runCli(args: string[], env: Record<string, string> = {}): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
    p.on('exit', (code) => resolve(code));
  });
}

let fspConfig = '';
test('fsp under the trainer: the init phase (own lr, fsp term, no eval) and then the main run from step 0 of its schedule', async () => {
  const teacher = await train(cfg('teacher', { epochs: 1, checkpoint: {} }), { out: dir, quiet: true, log: () => {} });
  const c = cfg('fsp', { teachers: [{ run: teacher.runDir }], method: { name: 'fsp', options: { initEpochs: 2, initLr: 0.02 } } });
  fspConfig = path.join(dir, 'fsp.json');
  fs.writeFileSync(fspConfig, JSON.stringify(c));
  const s = await train(c, { out: path.join(dir, 'a'), quiet: true, log: () => {} });
  const recs = records(s.runDir);
  const tr = recs.filter((r) => r.kind === 'train');
  // 80 images / 16 = 5 steps per epoch: 2 init epochs, then 2 main epochs; steps count over both
  assert.equal(s.steps, 20);
  assert.deepEqual(tr.map((r) => r.step), [...Array(20)].map((_, i) => i + 1));
  const init = tr.slice(0, 10), main = tr.slice(10);
  for (const r of init) {
    assert.equal(r.phase, 'fsp init');
    assert.deepEqual(Object.keys(r.terms), ['fsp']);
    assert.equal(r.lr, 0.02, 'the init phase runs at its own constant learning rate');
  }
  assert.deepEqual(init.map((r) => r.epoch), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  for (const r of main) { assert.equal(r.phase, undefined); assert.deepEqual(Object.keys(r.terms), ['ce']); }
  assert.deepEqual(main.map((r) => r.epoch), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  // per-iteration cosine over the main run's 10 steps, starting at its own iteration 0
  assert.ok(Math.abs(main[0].lr - 0.1) < 1e-12, `first main lr ${main[0].lr}`);
  assert.ok(main[9].lr < main[5].lr && main[5].lr < main[0].lr);
  // evaluation only in the main run: one per main epoch, after the init steps
  assert.deepEqual(recs.filter((r) => r.kind === 'eval').map((r) => [r.epoch, r.step]), [[0, 15], [1, 20]]);
});

test('fsp under the trainer: killed inside the init phase, at its end or inside the main run, resumed: the same final weights', async () => {
  assert.ok(fspConfig, 'the first test wrote the config');
  const a = weightsOf(path.join(dir, 'a', 'fsp'));
  // checkpoint writes: init epoch 1 at steps 2, 4, 5; init epoch 2 at 7, 9, 10; main epoch 1 at 12, 14, best, 15
  // kill at write 2: resume mid init epoch 1; at 7: from the init phase's last checkpoint (its end,
  // the boundary: the main run starts on resume); at 8: mid main epoch 1
  for (const [k, phase, step] of [[2, 'fsp init', 2], [7, 'fsp init', 10], [8, 'main', 12]] as const) {
    const out = path.join(dir, `kill${k}`), runDir = path.join(out, 'fsp');
    assert.equal(await runCli(['train', fspConfig, '--out', out, '--quiet'], { CIVET_TEST_KILL_IN_CHECKPOINT: String(k) }), null);
    const st = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints', 'last', 'state.json'), 'utf8'));
    assert.equal(st.phase, phase, `killed at write ${k}: the last checkpoint is in ${phase}`);
    assert.equal(st.step, step, `killed at write ${k}: the last checkpoint is at step ${step}`);
    assert.equal(await runCli(['train', '--resume', runDir, '--quiet', '--break-lock']), 0);
    const b = weightsOf(runDir);
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    for (const [name, buf] of a) assert.ok(buf.equals(b.get(name)!), `resumed from ${phase}: weights differ: ${name}`);
    const steps = records(runDir).filter((r) => r.kind === 'train').map((r) => r.step);
    assert.deepEqual(steps, [...Array(20)].map((_, i) => i + 1), 'every step recorded once');
  }
});
