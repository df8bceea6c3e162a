// The trainer end to end on tiny Fashion-MNIST subsets: config errors, exact resume after
// SIGKILL (one kill inside a checkpoint write), refused truncated checkpoints, NaN handling,
// TensorBoard events and the HTML report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { train, NonFiniteError } from './trainer';
import { loadConfig, ConfigError } from './schema';
import { readEvents } from './tensorboard';
import { readSafetensorsFile } from '../interop/safetensors';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin/civet');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'civet-train-'));

function tinyConfig(name: string, extra: Record<string, any> = {}): any {
  return {
    run: { name, seed: 3, deterministic: true },
    student: { model: 'tiny_cnn', options: { width: 4 } },
    data: { dataset: 'fashion-mnist', subsetPerClass: 8, testSubsetPerClass: 5, imgSize: 28, channels: 1, augment: { randomCrop: { padding: 2 }, flip: true } },
    optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4 },
    schedule: { name: 'cosine', warmupEpochs: 0.5 },
    epochs: 3, batchSize: 16, checkpoint: { everySteps: 2 }, eval: { batchSize: 50 }, log: { everySteps: 1 },
    ...extra,
  };
}

test('config errors name the file, the key path and what was expected', () => {
  const dir = tmp();
  const file = path.join(dir, 'bad.yaml');
  const cases: [any, RegExp][] = [
    [{ ...tinyConfig('a'), optimizer: { name: 'sgd', lrr: 0.1, lr: 0.1 } }, /bad\.yaml: optimizer: unknown key 'lrr'/],
    [{ ...tinyConfig('a'), epochs: 'three' }, /bad\.yaml: epochs: expected number, got string/],
    [{ ...tinyConfig('a'), optimizer: { name: 'sgd', lr: -1 } }, /bad\.yaml: optimizer\.lr: expected a positive number/],
    [{ ...tinyConfig('a'), optimizer: { name: 'rmsprop', lr: 1 } }, /bad\.yaml: optimizer\.name: expected one of 'sgd', 'adamw', got 'rmsprop'/],
    [{ ...tinyConfig('a'), student: undefined }, /bad\.yaml: student: expected object, got nothing/],
  ];
  for (const [cfg, re] of cases) {
    fs.writeFileSync(file, YAML.stringify(cfg));
    assert.throws(() => loadConfig(file), (e: any) => e instanceof ConfigError && re.test(e.message), `expected ${re}`);
  }
  fs.writeFileSync(file, 'run: [unclosed');
  assert.throws(() => loadConfig(file), /bad\.yaml: invalid YAML/);
  fs.writeFileSync(file, YAML.stringify(tinyConfig('a')));
  const { config } = loadConfig(file, ['optimizer.lr=0.2', 'data.augment.flip=false', 'run.name=b']);
  assert.equal(config.optimizer.lr, 0.2);
  assert.equal(config.data.augment.flip, false);
  assert.equal(config.run.name, 'b');
  assert.throws(() => loadConfig(file, ['optimizer.lr=abc']), /optimizer\.lr: expected number, got string/);
  // the CLI exits 2 on a config error and says why
  fs.writeFileSync(file, YAML.stringify({ ...tinyConfig('a'), epochs: 0 }));
  const r = spawnSync(process.execPath, [CLI, 'train', file, '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /epochs: expected a positive integer/);
});

function weightsOf(runDir: string): Map<string, Buffer> {
  const f = readSafetensorsFile(path.join(runDir, 'checkpoints', 'last', 'model.safetensors'));
  return new Map([...f.tensors].map(([k, t]) => [k, Buffer.from(t.data)]));
}

function runCli(args: string[], env: Record<string, string> = {}, killAfterMs?: number): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const timer = killAfterMs !== undefined ? setTimeout(() => p.kill('SIGKILL'), killAfterMs) : null;
    p.on('exit', (code) => { if (timer) clearTimeout(timer); resolve(code); });
  });
}

test('SIGKILL at random steps and inside a checkpoint write, then resume: bit-identical final weights', async () => {
  const dir = tmp();
  const file = path.join(dir, 'cfg.yaml');
  fs.writeFileSync(file, YAML.stringify(tinyConfig('run')));
  assert.equal(await runCli(['train', file, '--out', path.join(dir, 'a'), '--quiet']), 0);
  const outB = path.join(dir, 'b');
  const runB = path.join(outB, 'run');
  // killed by itself in the middle of its 3rd checkpoint write (model file written, state not)
  assert.equal(await runCli(['train', file, '--out', outB, '--quiet'], { CIVET_TEST_KILL_IN_CHECKPOINT: '3' }), null);
  assert.ok(fs.readdirSync(path.join(runB, 'checkpoints')).some((f) => f.startsWith('.tmp-')), 'an interrupted checkpoint was left');
  // the killed run's lock is stale: reported and refused until it is broken explicitly
  const refused = spawnSync(process.execPath, [CLI, 'train', '--resume', runB, '--quiet'], { encoding: 'utf8' });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /locked by pid \d+ on .*that process is no longer running.*--break-lock/);
  // then killed at pseudo-random moments, resuming each time, until it finishes
  let seed = 12345, attempts = 0;
  while (!fs.existsSync(path.join(runB, 'summary.json')) && attempts < 25) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const delay = attempts < 6 ? 900 + (seed % 1500) : undefined;
    await runCli(['train', '--resume', runB, '--quiet', '--break-lock'], { CIVET_TEST_SLOW_CHECKPOINT: '40' }, delay);
    attempts++;
  }
  assert.ok(fs.existsSync(path.join(runB, 'summary.json')), 'the resumed run finished');
  const a = weightsOf(path.join(dir, 'a', 'run')), b = weightsOf(runB);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [k, buf] of a) assert.ok(buf.equals(b.get(k)!), `weights differ: ${k}`);
  const sa = JSON.parse(fs.readFileSync(path.join(dir, 'a', 'run', 'summary.json'), 'utf8'));
  const sb = JSON.parse(fs.readFileSync(path.join(runB, 'summary.json'), 'utf8'));
  assert.equal(sb.top1, sa.top1);
  assert.equal(sb.steps, sa.steps);
});

test('a truncated checkpoint is refused and the previous one is used; a finished run is left as it is; records are not duplicated', async () => {
  const dir = tmp();
  const logs: string[] = [];
  const s = await train(tinyConfig('t', { epochs: 2 }), { out: dir, quiet: true, log: (l) => logs.push(l) });
  const last = path.join(s.runDir, 'checkpoints', 'last', 'model.safetensors');
  const buf = fs.readFileSync(last);
  fs.writeFileSync(last, buf.subarray(0, Math.floor(buf.length / 2)));
  // finished: resuming changes nothing (it used to train on from prev and overwrite summary.json)
  const summary = fs.readFileSync(path.join(s.runDir, 'summary.json'));
  const again = await train(null, { resume: s.runDir, quiet: true, log: (l) => logs.push(l) });
  assert.match(logs.join('\n'), /finished before \(summary\.json\); nothing to resume/);
  assert.ok(fs.readFileSync(path.join(s.runDir, 'summary.json')).equals(summary));
  assert.equal(again.steps, s.steps);
  // not finished: last is refused, prev used, and the records after prev's step are cut first
  fs.rmSync(path.join(s.runDir, 'summary.json'));
  const s2 = await train(null, { resume: s.runDir, quiet: true, log: (l) => logs.push(l) });
  assert.match(logs.join('\n'), /refusing checkpoint .*last: .*model\.safetensors: \d+ bytes, state\.json records \d+/);
  assert.match(logs.join('\n'), /resumed .* from .*prev/);
  assert.equal(s2.steps, s.steps);
  const recs = fs.readFileSync(path.join(s.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const trainSteps = recs.filter((r) => r.kind === 'train').map((r) => r.step);
  assert.deepEqual(trainSteps, [...Array(s.steps)].map((_, i) => i + 1), 'every step logged once');
  assert.equal(recs.filter((r) => r.kind === 'eval').length, 2, 'one evaluation per epoch');
  // the run's TensorBoard events read back with valid framing and CRCs, each step once
  const ev = fs.readdirSync(s.runDir).filter((f) => f.startsWith('events.out.tfevents'));
  assert.ok(ev.length >= 1);
  const scalars = ev.flatMap((f) => readEvents(path.join(s.runDir, f)));
  const lossSteps = scalars.filter((e) => e.tag === 'train/loss').map((e) => e.step).sort((a, b) => a - b);
  assert.deepEqual(lossSteps, trainSteps);
  assert.equal(scalars.filter((e) => e.tag === 'eval/top1').length, 2);
});

test('NaN in the loss: stop names the step and the term; skip counts it and goes on', async () => {
  const dir = tmp();
  await assert.rejects(train(tinyConfig('nan-stop', { epochs: 1, numerics: { onNonFinite: 'stop', injectNanAtStep: 3 } }), { out: dir, quiet: true }),
    (e: any) => e instanceof NonFiniteError && /non-finite loss at step 3 \(epoch 1\): term 'ce' = NaN/.test(e.message));
  const s = await train(tinyConfig('nan-skip', { epochs: 1, numerics: { onNonFinite: 'skip', injectNanAtStep: 3 } }), { out: dir, quiet: true, log: () => {} });
  assert.equal(s.skippedSteps, 1);
  assert.ok(Number.isFinite(s.loss));
});

test('bf16 autocast trains where the CPU supports it, and is refused with a reason where not', async () => {
  const dir = tmp();
  const { bf16Supported } = await import('../tensor');
  if (bf16Supported()) {
    const s = await train(tinyConfig('bf16', { epochs: 1, precision: 'bf16' }), { out: dir, quiet: true });
    assert.ok(Number.isFinite(s.loss));
  } else {
    await assert.rejects(train(tinyConfig('bf16', { epochs: 1, precision: 'bf16' }), { out: dir, quiet: true }), /precision: bf16 needs a CUDA device or a CPU with AVX-512 BF16/);
  }
  if (!require('../tensor').cudaAvailable()) {
    await assert.rejects(train(tinyConfig('gpu', { run: { name: 'gpu', device: 'cuda:0' } }), { out: dir, quiet: true }), /run\.device: 'cuda:0' asked for/);
  }
});

test('civet report compares two runs in one HTML page', async () => {
  const dir = tmp();
  const a = await train(tinyConfig('first', { epochs: 1 }), { out: dir, quiet: true });
  const b = await train(tinyConfig('second', { epochs: 1, optimizer: { name: 'adamw', lr: 0.003 } }), { out: dir, quiet: true });
  const out = path.join(dir, 'cmp.html');
  const r = spawnSync(process.execPath, [CLI, 'report', a.runDir, b.runDir, '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /first/);
  assert.match(html, /second/);
  assert.match(html, /<svg/);
  assert.ok(!fs.existsSync(a.report), 'train() writes no HTML report: civet train renders it at summary.report');
});
