// The teacher-output cache inside real runs (tiny Fashion-MNIST subsets, deterministic mode):
// a lazily filled cache, a cache built up front by `civet cache build`, and a killed-and-resumed
// run train the same weights (to float32 rounding); a prebuilt cache is only read; other teacher weights or
// another transform config empty it; a method that needs live features is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { train } from '../trainer';
import { ConfigError, loadConfig } from '../schema';
import { readSafetensorsFile } from '../../interop/safetensors';
import { buildCache } from './builder';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/civet');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'civet-tcache-'));

function cfg(name: string, extra: Record<string, any> = {}): any {
  return {
    run: { name, seed: 3, deterministic: true },
    student: { model: 'tiny_cnn', options: { width: 4 } },
    data: { dataset: 'fashion-mnist', subsetPerClass: 8, testSubsetPerClass: 5, imgSize: 28, channels: 1, augment: { randomCrop: { padding: 2 }, flip: true, randomErasing: 0.25 } },
    optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4 },
    epochs: 3, batchSize: 16, checkpoint: { everySteps: 2 }, eval: { batchSize: 50 }, log: { everySteps: 1 },
    ...extra,
  };
}
const quiet = { quiet: true, log: () => undefined };

function weightsOf(runDir: string): Map<string, Buffer> {
  const f = readSafetensorsFile(path.join(runDir, 'checkpoints', 'last', 'model.safetensors'));
  return new Map([...f.tensors].map(([k, t]) => [k, Buffer.from(t.data)]));
}
function sameWeights(a: string, b: string, what: string): void {
  const wa = weightsOf(a), wb = weightsOf(b);
  assert.deepEqual([...wb.keys()].sort(), [...wa.keys()].sort());
  for (const [k, buf] of wa) assert.ok(buf.equals(wb.get(k)!), `${what}: weights differ at ${k}`);
}
/** The largest |a − b| over the float32 tensors of two runs' last weights. */
function maxWeightDiff(a: string, b: string): number {
  const wa = weightsOf(a), wb = weightsOf(b);
  let m = 0;
  for (const [k, buf] of wa) {
    const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), o = wb.get(k)!, y = new Float32Array(o.buffer, o.byteOffset, o.byteLength / 4);
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  }
  return m;
}
// A prebuilt cache holds teacher outputs computed in the builder's batches (view v of samples in
// order), a lazily filled one in the training batches; oneDNN's convolution kernels may round
// differently for another batch composition (seen on AMD EPYC: 6e-8 after 3 epochs), so those two
// runs agree to float32 rounding, not bit for bit (so do a killed-and-resumed and an uninterrupted
// run). The zeroed cache below moves weights by far more.
const ROUNDING = 1e-5;
const chunks = (dir: string) => new Map(fs.readdirSync(dir).filter((f) => f.endsWith('.bin')).map((f) => [f, fs.readFileSync(path.join(dir, f))]));

function runCli(args: string[], env: Record<string, string> = {}): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
    p.on('exit', (code) => resolve(code));
  });
}

test('cached KD runs: lazy fill, `cache build` up front, and kill + resume train the same weights; a full cache is only read', async () => {
  const dir = tmp();
  await train(cfg('teacher', { epochs: 1 }), { ...quiet, out: dir, baseDir: dir });
  const kd = (name: string, cacheDir: string) => cfg(name, { method: { name: 'kd' }, teachers: [{ run: path.join(dir, 'teacher'), cache: { views: 2, dir: cacheDir } }] });
  // A: the cache fills during the first epoch and is replayed after
  const a = await train(kd('a', 'cache-a'), { ...quiet, out: dir, baseDir: dir });
  assert.ok(fs.existsSync(path.join(dir, 'cache-a', 'header.json')));
  // B: built up front (every view of every sample), then only read by the run
  const file = path.join(dir, 'b.yaml');
  fs.writeFileSync(file, YAML.stringify(kd('b', 'cache-b')));
  const built = await buildCache(loadConfig(file).config, dir, quiet);
  assert.equal(built.teachers[0].computed, 80 * 2, 'every view of the 80 samples');
  const before = chunks(path.join(dir, 'cache-b'));
  assert.ok(before.size > 0);
  const again = await buildCache(loadConfig(file).config, dir, quiet);
  assert.equal(again.teachers[0].computed, 0, 'a second build finds everything stored');
  // the command: a progress bar on stderr, a summary on stdout
  const cli = spawnSync(process.execPath, [CLI, 'cache', 'build', file], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /teacher cache: 80 samples × 2 views, .* 0 computed/);
  assert.match(cli.stderr, /step 10\/10/);
  assert.equal(spawnSync(process.execPath, [CLI, 'cache', 'fill', file], { encoding: 'utf8' }).status, 2);
  const b = await train(file, { ...quiet, out: dir });
  assert.deepEqual(chunks(path.join(dir, 'cache-b')), before, 'no view was recomputed or rewritten');
  const lazyVsBuilt = maxWeightDiff(a.runDir, b.runDir);
  assert.ok(lazyVsBuilt <= ROUNDING, `lazy vs prebuilt cache: weights differ by up to ${lazyVsBuilt}`);
  assert.ok(chunks(path.join(dir, 'cache-a')).size > 0, 'run A filled its cache as it went');
  // the run really distils from the store: the same cache with every stored logit set to 0 (and
  // valid checksums) trains other weights, and is still not rewritten
  fs.cpSync(path.join(dir, 'cache-b'), path.join(dir, 'cache-p'), { recursive: true });
  const width = JSON.parse(fs.readFileSync(path.join(dir, 'cache-p', 'header.json'), 'utf8')).width, rowBytes = 8 + 4 * width;
  for (const [f, buf] of chunks(path.join(dir, 'cache-p'))) {
    const body = buf.subarray(32);
    for (let off = 0; off < body.length; off += rowBytes) if (body.subarray(off, off + 8).some((v) => v !== 0)) body.fill(0, off + 8, off + rowBytes);
    crypto.createHash('sha256').update(body).digest().copy(buf, 0);
    fs.writeFileSync(path.join(dir, 'cache-p', f), buf);
  }
  const poisoned = chunks(path.join(dir, 'cache-p'));
  const p = await train(kd('p', 'cache-p'), { ...quiet, out: dir, baseDir: dir });
  assert.deepEqual(chunks(path.join(dir, 'cache-p')), poisoned, 'served from the store, nothing recomputed');
  const zeroed = maxWeightDiff(a.runDir, p.runDir);
  assert.ok(zeroed > 100 * ROUNDING, `real vs zeroed cache: weights differ by only ${zeroed}`);
  // C: killed in its 3rd checkpoint write (unflushed cache rows are lost with it), resumed
  const fileC = path.join(dir, 'c.yaml');
  fs.writeFileSync(fileC, YAML.stringify(kd('c', 'cache-c')));
  assert.equal(await runCli(['train', fileC, '--out', dir, '--quiet'], { CIVET_TEST_KILL_IN_CHECKPOINT: '3' }), null);
  assert.equal(await runCli(['train', '--resume', path.join(dir, 'c'), '--quiet', '--break-lock']), 0);
  // (rows lost with the kill are recomputed when drawn again, in another batch: rounding again)
  const resumed = maxWeightDiff(a.runDir, path.join(dir, 'c'));
  assert.ok(resumed <= ROUNDING, `uninterrupted vs killed and resumed: weights differ by up to ${resumed}`);
  // a live-teacher run differs (fresh augmentations every epoch): the comparison above can fail
  const live = await train(cfg('live', { method: { name: 'kd' }, teachers: [{ run: path.join(dir, 'teacher') }] }), { ...quiet, out: dir, baseDir: dir });
  assert.throws(() => sameWeights(a.runDir, live.runDir, 'cached vs live'), /weights differ/);

  // other teacher weights, another transform config: the cache is refused and rebuilt
  await train(cfg('teacher2', { epochs: 1, run: { name: 'teacher2', seed: 4, deterministic: true } }), { ...quiet, out: dir, baseDir: dir });
  for (const [what, change] of [
    ['weightsHash', { teachers: [{ run: path.join(dir, 'teacher2'), cache: { views: 2, dir: 'cache-b' } }] }],
    ['transformHash', { data: { ...cfg('x').data, augment: { randomCrop: { padding: 3 }, flip: true, randomErasing: 0.25 } } }],
  ] as const) {
    const log: string[] = [];
    const c2 = { ...kd('d', 'cache-b'), ...change };
    fs.writeFileSync(file, YAML.stringify(c2));
    const r = await buildCache(loadConfig(file).config, dir, { quiet: true, log: (l) => log.push(l) });
    assert.match(log.join('\n'), new RegExp(`built for another ${what}.*refusing it and rebuilding`));
    assert.equal(r.teachers[0].computed, 160, `${what}: every view recomputed`);
    fs.writeFileSync(file, YAML.stringify(kd('b', 'cache-b')));
    await buildCache(loadConfig(file).config, dir, quiet);   // back to the run's own
  }
});

test('a method that trains on live teacher features is refused with a cache, before any run folder exists', async () => {
  const dir = tmp();
  const c = cfg('f', { method: { name: 'fitnets' }, teachers: [{ model: 'tiny_cnn', options: { width: 4 }, weights: 'w.safetensors', cache: { views: 4, dir: 'c' } }] });
  fs.writeFileSync(path.join(dir, 'w.safetensors'), '');
  await assert.rejects(train(c, { ...quiet, out: dir, baseDir: dir }),
    (e: any) => e instanceof ConfigError && /teachers\.0\.cache: method 'fitnets' reads the live teacher's features .* cannot use a teacher-output cache; .*use a method that can: .*kd/.test(e.message));
  assert.ok(!fs.existsSync(path.join(dir, 'f')));
  // cached teachers share one view set; mixup has no view key yet
  assert.throws(() => loadConfig(cfg('m', { method: { name: 'kd' }, teachers: [{ run: 'a', cache: { views: 4, dir: 'c1' } }, { run: 'b', cache: { views: 2, dir: 'c2' } }] })),
    /teachers\.1\.cache\.views: 2 views, but teachers\.0\.cache has 4/);
  assert.throws(() => loadConfig(cfg('m', { method: { name: 'kd' }, teachers: [{ run: 'a', cache: { dir: 'c1' } }], data: { ...cfg('x').data, augment: { mixup: {} } } })),
    /teachers\.0\.cache: a teacher-output cache cannot be combined with data\.augment\.mixup/);
});
