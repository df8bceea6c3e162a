// Run directories and checkpoints under damage: every flipped byte of a checkpoint is caught and
// prev used; NaN weights, a bad state.json and a bad generator state are damage; both unusable is
// refused unless --restart; a rejected --resume --set changes nothing; locks; civet eval on a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { tensor } from '../tensor';
import { writeCheckpoint, chooseCheckpoint, readCheckpoint, disposeCheckpoint, sealState, CheckpointData } from './checkpoints';
import { lockRun, RunDirError } from './run_dir';
import { train } from './trainer';
import { Rng } from '../util/rng';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin/civet');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'civet-rundir-'));

function data(step: number, w = [1, 2, 3, 4]): CheckpointData {
  return {
    weights: new Map([['student.w', tensor(w)], ['student.b', tensor([0.5])]]),
    extra: new Map([['opt.student.w.momentum', tensor([0.1, 0.2, 0.3, 0.4])]]),
    state: {
      format: 2, step, epoch: 0, loader: { sampler: { kind: 'RandomSampler', seed: 1, epoch: 0, position: step, length: 80, rank: 0, worldSize: 1 } },
      rng: [1, 2, 3], configHash: '0123456789abcdef', optimizer: { kind: 'sgd', groups: [], steps: { 'student.w': step }, stepCount: step },
      ema: null, bestTop1: -1, skippedSteps: 0, wallTimeSec: 1,
    },
  };
}

test('100 byte flips at random offsets of every file of a checkpoint: each detected, prev used', () => {
  const dir = tmp();
  writeCheckpoint(dir, 'last', data(2));
  writeCheckpoint(dir, 'last', data(4));
  const last = path.join(dir, 'checkpoints', 'last');
  const files = fs.readdirSync(last).sort();
  assert.deepEqual(files, ['extra.safetensors', 'model.safetensors', 'state.json']);
  const rng = new Rng(2024);
  for (let trial = 0; trial < 100; trial++) {
    const f = path.join(last, files[trial % files.length]);
    const orig = fs.readFileSync(f);
    const b = Buffer.from(orig);
    const at = rng.int(b.length);
    b[at] ^= 1 + rng.int(255);
    fs.writeFileSync(f, b);
    const { chosen, refused } = chooseCheckpoint(dir);
    assert.equal(refused.length, 1, `flip at ${files[trial % files.length]}:${at} was not detected`);
    assert.equal(chosen?.dir, path.join(dir, 'checkpoints', 'prev'));
    assert.equal(chosen!.data.state.step, 2);
    disposeCheckpoint(chosen!.data);
    fs.writeFileSync(f, orig);
  }
  const ok = chooseCheckpoint(dir);
  assert.equal(ok.chosen?.data.state.step, 4);
  disposeCheckpoint(ok.chosen!.data);
});

test('NaN weights and an invalid state.json (even with valid checksums) are refused by name', () => {
  const dir = tmp();
  writeCheckpoint(dir, 'last', data(2, [1, NaN, 3, 4]));
  assert.throws(() => readCheckpoint(path.join(dir, 'checkpoints', 'last')), /last\/model\.safetensors: tensor 'student\.w' holds NaN or Inf/);
  const st = path.join(dir, 'checkpoints', 'last', 'state.json');
  const raw = JSON.parse(fs.readFileSync(st, 'utf8'));
  fs.writeFileSync(st, sealState({ ...raw, step: 'abc' }));
  assert.throws(() => readCheckpoint(path.join(dir, 'checkpoints', 'last')), /last\/state\.json: step: expected number, got string/);
});

function tinyConfig(name: string, extra: Record<string, any> = {}): any {
  return {
    run: { name, seed: 3, deterministic: true },
    student: { model: 'tiny_cnn', options: { width: 4 } },
    data: { dataset: 'fashion-mnist', subsetPerClass: 8, testSubsetPerClass: 5, imgSize: 28, channels: 1 },
    optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 }, epochs: 2, batchSize: 16, checkpoint: { everySteps: 2 }, log: { everySteps: 1 }, ...extra,
  };
}

test('resume: bad generator state falls back to prev; both unusable refused unless --restart; a rejected --set changes nothing', async () => {
  const dir = tmp();
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);
  const s = await train(tinyConfig('r'), { out: dir, quiet: true, log });
  fs.rmSync(path.join(s.runDir, 'summary.json'));   // as if killed after its last checkpoint
  const cfgBefore = fs.readFileSync(path.join(s.runDir, 'config.json')), hashBefore = fs.readFileSync(path.join(s.runDir, 'config.hash'));
  await assert.rejects(train(null, { resume: s.runDir, set: ['epochs=5'], quiet: true, log }), /--set epochs=5: a resumed run keeps its config .*epochs \(2 → 5\)/);
  assert.ok(fs.readFileSync(path.join(s.runDir, 'config.json')).equals(cfgBefore) && fs.readFileSync(path.join(s.runDir, 'config.hash')).equals(hashBefore));
  // a generator state of the wrong size, sealed so only restoring it can tell
  const st = path.join(s.runDir, 'checkpoints', 'last', 'state.json');
  const raw = JSON.parse(fs.readFileSync(st, 'utf8'));
  fs.writeFileSync(st, sealState({ ...raw, rng: raw.rng.slice(0, 100) }));
  const r = await train(null, { resume: s.runDir, quiet: true, log });
  assert.match(logs.join('\n'), /refusing checkpoint .*last: .*last\/state\.json: rng: 100 bytes, this libtorch's generator state is \d+ bytes/);
  assert.match(logs.join('\n'), /resumed .* from .*prev/);
  assert.equal(r.steps, s.steps);
  assert.equal(r.top1, s.top1);
  // both damaged: refused with both reasons (it used to start over silently); --restart trains again
  fs.rmSync(path.join(s.runDir, 'summary.json'));
  for (const n of ['last', 'prev']) fs.appendFileSync(path.join(s.runDir, 'checkpoints', n, 'model.safetensors'), 'x');
  await assert.rejects(train(null, { resume: s.runDir, quiet: true, log }), (e: any) => e instanceof RunDirError && /no usable checkpoint/.test(e.message) && /last\/model/.test(e.message) && /prev\/model/.test(e.message) && /--restart/.test(e.message));
  const cli = spawnSync(process.execPath, [CLI, 'train', '--resume', s.runDir, '--quiet'], { encoding: 'utf8' });
  assert.equal(cli.status, 2, cli.stderr);
  const again = await train(null, { resume: s.runDir, restart: true, quiet: true, log });
  assert.equal(again.steps, s.steps);
  assert.equal(again.top1, s.top1, 'a restart is the same run from the beginning');
  const steps = fs.readFileSync(path.join(s.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.kind === 'train').map((x) => x.step);
  assert.deepEqual(steps, [...Array(s.steps)].map((_, i) => i + 1));
  // civet eval on the run's best and last checkpoints
  for (const ck of ['best', 'last']) {
    const e = spawnSync(process.execPath, [CLI, 'eval', s.runDir, '--checkpoint', ck], { encoding: 'utf8' });
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, new RegExp(`r \\(${ck}, step \\d+\\): top-1 [\\d.]+%`));
  }
});

test('a new run never appends to an old folder\'s records; a live lock is refused', async () => {
  const dir = tmp();
  const runDir = path.join(dir, 'n');
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), '{"kind":"train","step":1,"epoch":0,"loss":9}\n');
  fs.writeFileSync(path.join(runDir, 'events.out.tfevents.1.old.1.civet'), 'old');
  const s = await train(tinyConfig('n', { epochs: 1 }), { out: dir, quiet: true, log: () => {} });
  assert.equal(s.runDir, runDir);
  const recs = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(recs.every((x) => x.loss !== 9), 'the old record is gone');
  assert.ok(!fs.existsSync(path.join(runDir, 'events.out.tfevents.1.old.1.civet')));
  // a lock held by a live process: refused, even with --break-lock
  const release = lockRun(runDir);
  fs.rmSync(path.join(runDir, 'summary.json'));
  await assert.rejects(train(null, { resume: runDir, quiet: true, breakLock: true }), /is in use by pid \d+/);
  release();
  assert.ok(!fs.existsSync(path.join(runDir, 'run.lock')));
});

test('teacher files: their SHA-256 is recorded at start; --resume refuses a changed teacher file by name unless --restart', async () => {
  const dir = tmp();
  const t1 = await train(tinyConfig('t1', { epochs: 1 }), { out: dir, quiet: true, log: () => {} });
  const t2 = await train(tinyConfig('t2', { epochs: 1, run: { name: 't2', seed: 9, deterministic: true } }), { out: dir, quiet: true, log: () => {} });
  const teacherFile = path.join(t1.runDir, 'checkpoints', 'best', 'model.safetensors');
  const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  const s = await train(tinyConfig('s', { epochs: 1, teachers: [{ run: t1.runDir }], method: { name: 'kd' } }), { out: dir, quiet: true, log: () => {} });
  const rec = JSON.parse(fs.readFileSync(path.join(s.runDir, 'teachers.json'), 'utf8'));
  assert.deepEqual(rec.teachers, [{ teacher: 0, file: teacherFile, sha256: sha(teacherFile) }]);
  // killed after its last checkpoint, then the teacher's weights are replaced by another run's
  fs.rmSync(path.join(s.runDir, 'summary.json'));
  fs.copyFileSync(path.join(t2.runDir, 'checkpoints', 'best', 'model.safetensors'), teacherFile);
  assert.notEqual(sha(teacherFile), rec.teachers[0].sha256);
  const metricsBefore = fs.readFileSync(path.join(s.runDir, 'metrics.jsonl'));
  await assert.rejects(train(null, { resume: s.runDir, quiet: true, log: () => {} }), (e: any) => {
    assert.ok(e instanceof RunDirError, String(e));
    assert.ok(e.message.includes(`teachers.0: ${teacherFile} changed since the run started`), e.message);
    assert.match(e.message, /--restart/);
    return true;
  });
  assert.ok(fs.readFileSync(path.join(s.runDir, 'metrics.jsonl')).equals(metricsBefore), 'a refused resume changes nothing');
  const cli = spawnSync(process.execPath, [CLI, 'train', '--resume', s.runDir, '--quiet'], { encoding: 'utf8' });
  assert.equal(cli.status, 2, cli.stderr);
  assert.match(cli.stderr, /changed since the run started/);
  // --restart: trained again from the beginning with the new teacher, which is now the recorded one
  const logs: string[] = [];
  const again = await train(null, { resume: s.runDir, restart: true, quiet: true, log: (l) => logs.push(l) });
  assert.match(logs.join('\n'), /--restart: teachers\.0: .* training .* again from the beginning/);
  assert.equal(again.steps, s.steps);
  assert.equal(JSON.parse(fs.readFileSync(path.join(s.runDir, 'teachers.json'), 'utf8')).teachers[0].sha256, sha(teacherFile));
  const steps = fs.readFileSync(path.join(s.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.kind === 'train').map((x) => x.step);
  assert.deepEqual(steps, [...Array(s.steps)].map((_, i) => i + 1), 'records start over, not appended');
});
