// Studies: file validation (names that do not exist, pipelines out of order, extends cycles),
// claim checking, and a tiny end-to-end study with a shared teacher, a pipeline and a second
// invocation that reuses every finished run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { spawnSync } from 'node:child_process';
import { deepMerge, loadStudy, runStudy, checkOrder } from './study';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'civet-study-'));

function tinyStudy(dir: string, extra: Record<string, any> = {}): any {
  return {
    study: { title: 'tiny', out: 'runs', report: 'out/report.html', seeds: [0, 1] },
    base: {
      run: { name: 'x', deterministic: true, threads: 1 },
      student: { model: 'tiny_cnn', options: { width: 4 } },
      data: { dataset: 'fashion-mnist', subsetPerClass: 6, testSubsetPerClass: 4, imgSize: 28, channels: 1 },
      optimizer: { name: 'sgd', lr: 0.05 },
      epochs: 1, batchSize: 12, eval: { batchSize: 50 },
    },
    teachers: { big: { student: { model: 'tiny_cnn', options: { width: 8 } }, epochs: 2 } },
    variants: {
      alone: { method: { name: 'ce' } },
      kd: { teachers: ['@big'], method: { name: 'kd' } },
      // a pipeline: the kd student (same seed) teaches this one
      chain: { teachers: ['@kd'], method: { name: 'kd' } },
    },
    claims: [{ text: 'kd beats alone', order: ['kd', 'alone'] }],
    ...extra,
  };
}

function write(dir: string, name: string, obj: unknown): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, YAML.stringify(obj));
  return f;
}

test('deepMerge: objects merge key by key, arrays and scalars replace', () => {
  assert.deepEqual(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 }), { a: { b: 1, c: [3] }, d: 1, e: 2 });
  const base = { a: { b: 1 } };
  deepMerge(base, { a: { b: 2 } });
  assert.deepEqual(base, { a: { b: 1 } }, 'the base is not modified');
});

test('study files: bad references, order, claims and extends cycles are errors naming the file', () => {
  const dir = tmp();
  const bad = (mut: (s: any) => void, re: RegExp) => {
    const s = tinyStudy(dir);
    mut(s);
    assert.throws(() => loadStudy(write(dir, 'bad.yaml', s)), re);
  };
  bad((s) => { s.variants.kd.teachers = ['@nope']; }, /bad\.yaml: kd: teacher '@nope' is neither a teacher nor a variant/);
  bad((s) => { s.variants.kd.teachers = [{ run: '@nope', cache: { views: 2 } }]; }, /bad\.yaml: kd: teacher '@nope' is neither a teacher nor a variant/);
  bad((s) => { s.variants = { chain: s.variants.chain, kd: s.variants.kd }; }, /bad\.yaml: chain: '@kd' must be listed before chain/);
  bad((s) => { s.claims[0].order = ['kd', 'ghost']; }, /bad\.yaml: claims\.0 \('kd beats alone'\): unknown group 'ghost'/);
  bad((s) => { s.study.seeds = 'all'; }, /bad\.yaml: study\.seeds: Expected array/);
  bad((s) => { s.variants.kd.teachers = ['big']; }, /teacher 'big': a teacher given as a string must be '@name'/);
  bad((s) => { s.teachers.alone = {}; }, /'alone' is both a teacher and a variant/);
  bad((s) => { s.study.baseline = 'big'; }, /bad\.yaml: study\.baseline: 'big' is not a variant/);
  write(dir, 'a.yaml', { extends: 'b.yaml' });
  write(dir, 'b.yaml', { extends: 'a.yaml' });
  assert.throws(() => loadStudy(path.join(dir, 'a.yaml')), /'extends' forms a cycle/);
  // extends: the child's values win, and a variant set to null is dropped
  const parent = write(dir, 'parent.yaml', tinyStudy(dir));
  const child = write(dir, 'child.yaml', { extends: path.basename(parent), study: { seeds: [5] }, variants: { chain: null } });
  const { study } = loadStudy(child);
  assert.deepEqual(study.study.seeds, [5]);
  assert.deepEqual(Object.keys(study.variants), ['alone', 'kd']);
  assert.equal(study.study.title, 'tiny');
});

test('checkOrder: every mean of a level must exceed every mean of the next', () => {
  const g = (name: string, xs: number[]) => [name, { name, runs: xs.map((top1, seed) => ({ seed, top1 })) }] as const;
  const groups = new Map([g('a', [0.9, 0.8]), g('b', [0.7, 0.7]), g('c', [0.75, 0.85]), g('d', [0.5, 0.6])]);
  assert.equal(checkOrder('x', ['a', 'b', 'd'], groups, 'top1').holds, true);
  assert.equal(checkOrder('x', ['a', 'b', 'd'], groups, 'top1').verdict, 'holds');
  // a (0.85) > c (0.80) by 5 points, within the 7.07-point spread of a and c: in order, but inconclusive
  assert.equal(checkOrder('x', ['a', ['b', 'c'], 'd'], groups, 'top1').holds, false);
  assert.equal(checkOrder('x', ['a', ['b', 'c'], 'd'], groups, 'top1').verdict, 'inconclusive');
  assert.equal(checkOrder('x', ['d', 'a'], groups, 'top1').verdict, 'does not hold');
  // b (0.70) does not exceed a (0.85)
  assert.equal(checkOrder('x', [['b', 'c'], 'a'], groups, 'top1').holds, false);
  assert.equal(checkOrder('x', ['d', 'a'], groups, 'top1').holds, false);
  assert.match(checkOrder('x', ['a', 'd'], groups, 'top1').detail!, /a 85\.00%  > d 55\.00%; smallest margin 30\.00 pts > largest std over seeds 7\.07 pts$/);
  assert.match(checkOrder('x', ['b', 'a'], groups, 'top1').detail!, /b 70\.00%  ≤ a 85\.00%$/);
  assert.match(checkOrder('x', ['a', 'c'], groups, 'top1').detail!, /smallest margin 5\.00 pts < largest std over seeds 7\.07 pts \(within seed noise\)/);
});

test('a tiny study end to end: teacher once, variants × seeds, pipeline, report; a second run reuses everything', async () => {
  const dir = tmp();
  const file = write(dir, 'study.yaml', tinyStudy(dir));
  const lines: string[] = [];
  const r = await runStudy(file, { quiet: true, log: (l) => lines.push(l) });
  // 1 teacher + 3 variants × 2 seeds
  assert.equal(lines.filter((l) => /^\[study \d+\/7\] .*: training/.test(l)).length, 7, lines.join('\n'));
  for (const d of ['teacher-big', 'alone-s0', 'kd-s1', 'chain-s1']) assert.ok(fs.existsSync(path.join(dir, 'runs', d, 'summary.json')), d);
  // the pipeline's teacher is the kd student of the same seed
  const chainCfg = JSON.parse(fs.readFileSync(path.join(dir, 'runs', 'chain-s1', 'config.json'), 'utf8'));
  assert.equal(chainCfg.teachers[0].run, path.join(dir, 'runs', 'kd-s1'));
  assert.equal(chainCfg.run.seed, 1);
  assert.equal(r.study.groups.length, 4);
  for (const g of r.study.groups.slice(1)) {
    assert.equal(g.runs.length, 2);
    for (const run of g.runs) assert.ok((run.top1 as number) >= 0 && (run.top1 as number) <= 1 && (run['time (s)'] as number) > 0);
  }
  assert.equal(r.study.claims.length, 1);
  const html = fs.readFileSync(r.report, 'utf8');
  assert.match(html, /kd beats alone/);
  assert.match(fs.readFileSync(r.markdown, 'utf8'), /\| alone \(ce, tiny_cnn\) \| 2 \|/);
  const json = JSON.parse(fs.readFileSync(r.json, 'utf8'));
  assert.deepEqual(json.seeds, [0, 1]);
  // again: nothing trains, the results are the same
  const again: string[] = [];
  const r2 = await runStudy(file, { quiet: true, log: (l) => again.push(l) });
  assert.equal(again.filter((l) => /training|resuming/.test(l)).length, 0, again.join('\n'));
  assert.equal(again.filter((l) => /reused/.test(l)).length, 7);
  assert.ok(!again.some((l) => /differs/.test(l)), 'an unchanged study finds no difference: ' + again.join('\n'));
  assert.deepEqual(r2.study.groups.map((g) => g.runs.map((x) => x.top1)), r.study.groups.map((g) => g.runs.map((x) => x.top1)));
});

test("a teacher object's run: '@name' is the study teacher's run, with the object's own settings kept (a teacher-output cache)", async () => {
  const dir = tmp();
  const st = tinyStudy(dir);
  st.variants = { kdc: { teachers: [{ run: '@big', cache: { views: 2, dir: 'cache-big' } }], method: { name: 'kd' } } };
  st.claims = [];
  st.study.seeds = [0];
  const file = write(dir, 'study.yaml', st);
  const lines: string[] = [];
  await runStudy(file, { quiet: true, log: (l) => lines.push(l) });
  // the teacher trains before the variant that names it inside an object
  assert.ok(lines.findIndex((l) => /teacher-big: training/.test(l)) < lines.findIndex((l) => /kdc-s0: training/.test(l)), lines.join('\n'));
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'runs', 'kdc-s0', 'config.json'), 'utf8'));
  assert.equal(cfg.teachers[0].run, path.join(dir, 'runs', 'teacher-big'));
  assert.equal(cfg.teachers[0].cache.views, 2);
  assert.ok(fs.readdirSync(path.join(dir, 'cache-big')).length > 0, 'the cache was written');
});

test('--only runs the asked variant and what it learns from; --jobs 2 runs in worker processes', async () => {
  const dir = tmp();
  const file = write(dir, 'study.yaml', tinyStudy(dir, { study: { title: 'tiny', out: 'runs', report: 'out/r.html', seeds: [0] } }));
  const lines: string[] = [];
  const r = await runStudy(file, { only: ['chain'], jobs: 2, quiet: true, log: (l) => lines.push(l) });
  assert.deepEqual(fs.readdirSync(path.join(dir, 'runs')).sort(), ['chain-s0', 'kd-s0', 'teacher-big']);
  assert.deepEqual(r.study.groups.map((g) => g.name.split(' ')[0]), ['teacher:', 'kd', 'chain']);
  // worker processes ran with one libtorch thread each (2 jobs on this machine's cores)
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'runs', 'kd-s0', 'config.json'), 'utf8'));
  assert.equal(cfg.run.threads, Math.max(1, Math.floor(os.cpus().length / 2)));
  await assert.rejects(runStudy(file, { only: ['ghost'], quiet: true, log: () => {} }), /--only: unknown variant 'ghost'/);
});

test('every variant is validated before the first run: a bad last variant stops the study before the teacher trains', async () => {
  const dir = tmp();
  const s = tinyStudy(dir);
  s.variants.chain.epochs = -4;
  s.variants.alone.optimizer = { name: 'sgd', lr: 0.05, lrr: 1 };
  const file = write(dir, 'study.yaml', s);
  await assert.rejects(runStudy(file, { quiet: true, log: () => {} }), (e: any) => {
    assert.equal(e.name, 'ConfigError');
    assert.match(e.message, /\(alone-s0\): optimizer: unknown key 'lrr'/);
    assert.match(e.message, /\(chain-s0\): epochs: expected a positive integer/);
    return true;
  });
  assert.equal(fs.existsSync(path.join(dir, 'runs')), false, 'a run started before the configs were checked');
});

test('edits make new runs: a changed variant trains again (keys named, old run kept), its pipeline student too; a dead run\'s lock is broken; --reuse-stale keeps them', async () => {
  const dir = tmp();
  const s = tinyStudy(dir, { study: { title: 'tiny', out: 'runs', report: 'out/r.html', seeds: [0], baseline: 'alone' } });
  const file = write(dir, 'study.yaml', s);
  await runStudy(file, { quiet: true, log: () => {} });
  const runs = path.join(dir, 'runs');
  const oldKd = fs.readFileSync(path.join(runs, 'kd-s0', 'summary.json'), 'utf8');
  // alone-s0 was killed (SIGKILL) after its last checkpoint: no summary, its lock left behind by a process now gone
  fs.rmSync(path.join(runs, 'alone-s0', 'summary.json'));
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  fs.writeFileSync(path.join(runs, 'alone-s0', 'run.lock'), JSON.stringify({ pid: dead, host: os.hostname(), started: '2026-01-01T00:00:00Z' }));
  // the study is edited: alone trains 2 epochs, kd uses another temperature
  s.variants.alone.epochs = 2;
  s.variants.kd.method = { name: 'kd', options: { temperature: 2 } };
  write(dir, 'study.yaml', s);
  const lines: string[] = [];
  await runStudy(file, { quiet: true, log: (l) => lines.push(l) });
  const text = lines.join('\n');
  assert.match(text, /teacher-big: done before .*reused/);
  assert.match(text, new RegExp(`alone-s0: .*breaking the stale lock of pid ${dead} on .*: that process is no longer running`));
  assert.match(text, /alone-s0: differs from what the study asks for \(epochs: 1 → 2\): a new run; the earlier one is kept in .*alone-s0\.stale-1/);
  assert.match(text, /kd-s0: differs from what the study asks for \(method\.options\.temperature: \(unset\) → 2\): a new run/);
  // chain's own config did not change, but its teacher (kd-s0's student) was retrained
  assert.match(text, /chain-s0: differs from what the study asks for \(teachers\.0: .*kd-s0\/checkpoints\/best\/model\.safetensors changed since the run started/);
  assert.equal(lines.filter((l) => /: training \(/.test(l)).length, 3, text);
  const cfgOf = (d: string) => JSON.parse(fs.readFileSync(path.join(runs, d, 'config.json'), 'utf8'));
  assert.equal(cfgOf('alone-s0').epochs, 2, 'the interrupted run was not resumed with its old config');
  assert.equal(cfgOf('kd-s0').method.options.temperature, 2);
  assert.equal(fs.readFileSync(path.join(runs, 'kd-s0.stale-1', 'summary.json'), 'utf8'), oldKd, 'the old run is kept as it was');
  assert.deepEqual(fs.readdirSync(runs).sort(), ['alone-s0', 'alone-s0.stale-1', 'chain-s0', 'chain-s0.stale-1', 'kd-s0', 'kd-s0.stale-1', 'teacher-big']);
  // unchanged: everything reused, nothing named as different; pictures in run folders are linked
  fs.writeFileSync(path.join(runs, 'teacher-big', 'samples.png'), 'png');
  const same: string[] = [];
  const sr = await runStudy(file, { quiet: true, log: (l) => same.push(l) });
  const page = fs.readFileSync(sr.report, 'utf8');
  assert.match(page, /<a href="\.\.\/runs\/teacher-big\/samples\.png">teacher-big: samples\.png<\/a>/);
  assert.match(page, /<th[^>]*>Δ top1 vs alone \(ce, tiny_cnn\) \(points\)<\/th>/);
  assert.equal(same.filter((l) => /reused/.test(l)).length, 4, same.join('\n'));
  assert.ok(!same.some((l) => /differs|training/.test(l)), same.join('\n'));
  // --reuse-stale: an edit is reported, the old results kept
  s.variants.alone.epochs = 3;
  write(dir, 'study.yaml', s);
  const kept: string[] = [];
  await runStudy(file, { quiet: true, reuseStale: true, log: (l) => kept.push(l) });
  assert.match(kept.join('\n'), /alone-s0: differs from what the study asks for \(epochs: 2 → 3\); --reuse-stale: its results are reused/);
  assert.ok(!kept.some((l) => /training|resuming/.test(l)), kept.join('\n'));
  // a lock taken on another host cannot be checked: refused (exit 2 naming --break-lock) unless --break-lock
  const foreign = JSON.stringify({ pid: 1, host: 'elsewhere.example', started: '2026-01-01T00:00:00Z' });
  fs.writeFileSync(path.join(runs, 'teacher-big', 'run.lock'), foreign);
  const cli = spawnSync(process.execPath, [path.resolve(__dirname, '../../../bin/civet'), 'study', file, '--reuse-stale', '--quiet'], { encoding: 'utf8', env: { ...process.env, CIVET_THREADS: '1' } });
  assert.equal(cli.status, 2, cli.stderr);
  assert.match(cli.stderr, /teacher-big is locked by pid 1 on elsewhere\.example.*pass --break-lock/);
  const broke: string[] = [];
  await runStudy(file, { quiet: true, reuseStale: true, breakLock: true, log: (l) => broke.push(l) });
  assert.match(broke.join('\n'), /teacher-big: .*breaking the stale lock of pid 1 on elsewhere\.example .*\(--break-lock\)/);
  assert.ok(!fs.existsSync(path.join(runs, 'teacher-big', 'run.lock')));
});

test('a study SIGKILLed while a variant trains: running it again breaks the dead lock with a note and finishes the run', async () => {
  const dir = tmp();
  const s = tinyStudy(dir, { study: { title: 'tiny', out: 'runs', report: 'out/r.html', seeds: [0] } });
  s.variants = { alone: { method: { name: 'ce' }, epochs: 12, checkpoint: { everySteps: 1 } } };
  s.teachers = {};
  s.claims = [];
  const file = write(dir, 'study.yaml', s);
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../../bin/civet'), 'study', file, '--quiet'], { stdio: 'ignore', env: { ...process.env, CIVET_THREADS: '1' } });
  const lock = path.join(dir, 'runs', 'alone-s0', 'run.lock');
  const last = path.join(dir, 'runs', 'alone-s0', 'checkpoints', 'last');
  const t0 = Date.now();
  while (!(fs.existsSync(lock) && fs.existsSync(last)) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 10));
  assert.ok(fs.existsSync(lock), 'the variant started');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(fs.existsSync(lock), 'SIGKILL leaves the lock behind');
  assert.equal(JSON.parse(fs.readFileSync(lock, 'utf8')).pid, child.pid);
  const lines: string[] = [];
  const r = await runStudy(file, { quiet: true, log: (l) => lines.push(l) });
  assert.match(lines.join('\n'), new RegExp(`alone-s0: .*breaking the stale lock of pid ${child.pid} .*that process is no longer running`));
  assert.match(lines.join('\n'), /alone-s0: resuming/);
  assert.equal(r.study.groups[0].runs.length, 1);
  assert.ok(!fs.existsSync(lock), 'released at the end');
});
