// First contact with the CLI: --version, usage errors exit 2 (report of a missing directory,
// bench with a bad workload or count) instead of an empty page or a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { main, civetVersion } from './main';

const ROOT = path.resolve(__dirname, '../../..');

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const w1 = process.stdout.write.bind(process.stdout), w2 = process.stderr.write.bind(process.stderr);
  (process.stdout as any).write = (s: string) => { out += s; return true; };
  (process.stderr as any).write = (s: string) => { err += s; return true; };
  try { return { code: await main(argv), out, err }; } finally { (process.stdout as any).write = w1; (process.stderr as any).write = w2; }
}

test('civet --version prints the package version', async () => {
  const v = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  assert.equal(civetVersion(), v);
  const r = await capture(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.out, `civet ${v}\n`);
});

test('civet report of a directory that is not a run exits 2', async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civet-cli-')), 'r.html');
  const r = await capture(['report', '/nonexistent', '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.err, /\/nonexistent: no such directory/);
  assert.equal(fs.existsSync(out), false);
  const e = await capture(['report', os.tmpdir(), '--out', out]);
  assert.equal(e.code, 2);
  assert.match(e.err, /not a civet run directory/);
});

test('bench usage errors exit 2; --help lists the workloads', async () => {
  const u = await capture(['bench', 'no_such_workload']);
  assert.equal(u.code, 2);
  assert.match(u.err, /unknown workload 'no_such_workload'; workloads:\n {2}\S+/);
  const n = await capture(['bench', 'no_such_workload', '--steps', 'x']);
  assert.equal(n.code, 2);
  const h = await capture(['bench', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /Workloads are those of/);
  const workload = /\n {2}(\S+) /.exec(h.out.slice(h.out.indexOf('Workloads')))![1];
  const s = await capture(['bench', workload, '--steps', '0']);
  assert.equal(s.code, 2);
  assert.match(s.err, /--steps must be a positive integer, got '0'/);
});

test('civet train says that the data is loading (with sizes and time) before the first step; --quiet silences it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-cli-'));
  const cfg = path.join(dir, 'tiny.yaml');
  fs.writeFileSync(cfg, [
    'run: { name: t, deterministic: true }', 'student: { model: tiny_cnn, options: { width: 4 } }',
    'data: { dataset: fashion-mnist, subsetPerClass: 4, testSubsetPerClass: 3, imgSize: 28, channels: 1 }',
    'optimizer: { name: sgd, lr: 0.05 }', 'epochs: 1', 'batchSize: 8', '',
  ].join('\n'));
  const run = (...extra: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin/civet'), 'train', cfg, '--out', path.join(dir, 'runs'), ...extra], { encoding: 'utf8', env: { ...process.env, CIVET_THREADS: '1' } });
  const r = run();
  assert.equal(r.status, 0, r.stderr);
  const loading = r.stderr.indexOf('loading data: fashion-mnist (4 training images per class) …');
  assert.ok(loading >= 0, r.stderr);
  assert.match(r.stderr, /loaded fashion-mnist: train 40, test 30 images, 10 classes; student ready in \d+\.\d s/);
  const firstEpoch = r.stderr.indexOf('epoch 1/1');
  assert.ok(firstEpoch > loading, `the note comes before training: ${r.stderr}`);
  const q = run('--quiet');
  assert.equal(q.status, 0, q.stderr);
  assert.doesNotMatch(q.stderr, /loading data|loaded fashion-mnist/);
});

test('the README lists every flag of civet train and civet study, and the methods tas, coadvise, kd', async () => {
  const { COMMANDS } = await import('./commands');
  const { listMethods } = await import('../distill/registry');
  await import('../distill');
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const cmd of ['train', 'study']) {
    for (const k of Object.keys(COMMANDS[cmd].options)) assert.ok(readme.includes(`--${k}`), `README: civet ${cmd} --${k} is not mentioned`);
  }
  for (const m of ['tas', 'coadvise', 'kd']) assert.ok(listMethods().includes(m) && readme.includes(`\`${m}\``), `README: method ${m}`);
});
