// civet export and civet predict on a tiny trained Fashion-MNIST run: the exported file agrees
// with civet, predict (run directory and .onnx) gives the top-1 civet's eval forward gives for
// a bundled test image, and bad files are clear errors with exit status 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tidy, noGrad, randn } from '../tensor';
import { loadSafetensors, loadWeights } from '../interop/weights';
import { createModel } from '../models/registry';
import { loadRunData, evalBatches } from '../train/data';
import { loadFashionMnist, SubsetDataset, materialize, FASHION_MNIST_CLASSES } from '../data';
import { readOnnxSummary } from './proto';
import { parseMetadata } from './export';
import { tinyRun } from './testing';
import { dataInfo, loadRunStudent, readRunConfig, exportRun, RunError } from './run';
import { predictFiles, InputFileError } from './predict';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin/civet');
const SAMPLES = path.join(ROOT, 'test/fixtures/fmnist_samples');
const samples: { file: string; index: number; label: number }[] = JSON.parse(fs.readFileSync(path.join(SAMPLES, 'index.json'), 'utf8'));
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CIVET_THREADS: '1' } });

let runDir = '';
let work = '';
test('setup: a tiny trained run', async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-export-'));
  runDir = await tinyRun(work);
  assert.ok(fs.existsSync(path.join(runDir, 'checkpoints', 'best')));
});

test('civet export: writes the student, reports onnxruntime parity, metadata has the classes and normalisation', () => {
  const out = path.join(work, 'student.onnx');
  const r = cli('export', runDir, '--onnx', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /onnxruntime-node vs civet on 32 random inputs: max \|Δ logits\| (\d\.\d\de[-+]\d+)/);
  const d = Number(/max \|Δ logits\| (\S+)/.exec(r.stdout)![1]);
  assert.ok(d <= 1e-4, r.stdout);
  const s = readOnnxSummary(fs.readFileSync(out));
  const md = parseMetadata(s.metadata)!;
  assert.deepEqual(md.classNames, [...FASHION_MNIST_CLASSES]);
  assert.deepEqual(md.normalize, { mean: [0.2860], std: [0.3530] });
  assert.deepEqual(md.input, [3, 32, 32]);
  assert.deepEqual(md.source, { channels: 1, height: 28, width: 28 });
  assert.equal(md.run, 'tiny');
  assert.deepEqual(s.inputs[0].dims, ['batch', 3, 32, 32]);
});

test('civet export --safetensors: the student under its own names, civet\'s input convention in the metadata, same logits', () => {
  const out = path.join(work, 'student.safetensors');
  const r = cli('export', runDir, '--safetensors', out);
  assert.equal(r.status, 0, r.stderr);
  const { tensors, metadata } = loadSafetensors(out);
  assert.ok([...tensors.keys()].length > 0 && [...tensors.keys()].every((k) => !k.startsWith('student.')), [...tensors.keys()].join(','));
  assert.deepEqual(JSON.parse(metadata['civet.normalize']), { mean: [0.2860], std: [0.3530] });
  assert.equal(metadata['civet.in_chans'], '3');
  assert.equal(metadata['civet.img_size'], '32');
  // loaded into a fresh model of the run's architecture: the run's student's logits, exactly
  const s = loadRunStudent(runDir);
  const cfg = s.config;
  const fresh = createModel(cfg.student.model, { numClasses: 10, imgSize: cfg.data.imgSize, inChans: cfg.data.channels, ...cfg.student.options });
  loadWeights(fresh, out);
  fresh.eval();
  tidy(() => noGrad(() => {
    const x = randn([4, ...s.input]);
    assert.deepEqual(Array.from(fresh.call(x).toTypedArray() as Float32Array), Array.from(s.model.call(x).toTypedArray() as Float32Array));
  }));
  s.model.dispose(); fresh.dispose();
  for (const t of tensors.values()) t.dispose();
  const both = cli('export', runDir, '--safetensors', out, '--onnx', path.join(work, 'x.onnx'));
  assert.equal(both.status, 2);
  assert.match(both.stderr, /one of --onnx and --safetensors/);
});

test('civet predict: run directory and .onnx give the top-1 of civet\'s eval forward on the bundled images', async () => {
  const out = path.join(work, 'student.onnx');
  if (!fs.existsSync(out)) assert.equal(cli('export', runDir, '--onnx', out).status, 0);
  const files = samples.map((s) => path.join(SAMPLES, s.file));
  // civet eval's path: the test images through evalBatches and the run's student
  const cfg = readRunConfig(runDir);
  const data = await loadRunData(cfg);
  const test = loadFashionMnist({ split: 'test' });
  const ds = materialize(new SubsetDataset(test, Int32Array.from(samples.map((s) => s.index))));
  const st = loadRunStudent(runDir);
  const want: number[] = [];
  for (const b of evalBatches(cfg, data, ds)) {
    tidy(() => noGrad(() => { want.push(...(st.model.forward(b.x).argmax(1).toArray() as number[])); }));
    b.x.dispose(); b.y.dispose();
  }
  st.model.dispose();
  for (const target of [runDir, out]) {
    const r = cli('predict', target, ...files, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.predictions.length, files.length);
    j.predictions.forEach((p: any, i: number) => {
      assert.equal(p.top.length, 5);
      assert.equal(p.top[0].index, want[i], `${target}: ${samples[i].file}`);
      assert.equal(p.top[0].label, FASHION_MNIST_CLASSES[want[i]]);
      const total = p.top.reduce((a: number, t: any) => a + t.probability, 0);
      assert.ok(total > 0 && total <= 1 + 1e-6);
      for (let k = 1; k < 5; k++) assert.ok(p.top[k].probability <= p.top[k - 1].probability);
    });
  }
  const plain = cli('predict', out, files[0]);
  assert.equal(plain.status, 0);
  assert.match(plain.stdout, new RegExp(`\\d+\\.\\d\\d%  ${FASHION_MNIST_CLASSES[want[0]].replace(/[/]/g, '\\/')}`));
});

test('civet predict / export: bad files are named, exit 2', async () => {
  const out = path.join(work, 'student.onnx');
  if (!fs.existsSync(out)) assert.equal(cli('export', runDir, '--onnx', out).status, 0);
  const txt = path.join(work, 'notes.png');
  fs.writeFileSync(txt, 'this is not an image');
  const img = path.join(SAMPLES, samples[0].file);
  let r = cli('predict', out, txt);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /notes\.png: not a readable image/);
  const notOnnx = path.join(work, 'model.onnx');
  fs.writeFileSync(notOnnx, 'definitely not protobuf \x00\xff\xff\xff');
  r = cli('predict', notOnnx, img);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /model\.onnx: not (a readable )?(an )?ONNX model/);
  const cut = path.join(work, 'cut.onnx');
  const bytes = fs.readFileSync(out);
  fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  r = cli('predict', cut, img);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cut\.onnx: .*(truncated|cannot load)/);
  // the same errors through the API (no process start each)
  await assert.rejects(predictFiles(out, [path.join(work, 'missing.png')]), (e: any) => e instanceof InputFileError && /missing\.png: no such file/.test(e.message));
  await assert.rejects(exportRun(work, path.join(work, 'x.onnx')), (e: any) => e instanceof RunError && e.exitCode === 2 && /is not a civet run \(no config\.json\)/.test(e.message));
  const last = await exportRun(runDir, path.join(work, 'last.onnx'), { checkpoint: 'last', check: false });
  assert.equal(last.student.checkpoint, 'last');
  assert.ok(fs.statSync(last.file).size > 0);
  r = cli('export', runDir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--onnx/);
});

test('dataInfo agrees with loadRunData (class names, normalisation, stored image size)', async () => {
  const cfg = readRunConfig(runDir);
  const info = dataInfo(cfg);
  const data = await loadRunData(cfg);
  assert.deepEqual([...info.classNames], [...data.classNames]);
  assert.deepEqual(info.norm, data.norm);
  assert.deepEqual(info.source, { channels: data.test.channels, height: data.test.height, width: data.test.width });
});
