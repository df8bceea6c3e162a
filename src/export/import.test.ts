// civet import against PyTorch: test/reference/import_fixtures.py saves a torchvision resnet18
// and a timm-named distilled DeiT (seeded, with their logits on fixed inputs); civet imports
// them with zero unmatched keys and reproduces the logits. The fixtures are generated here when
// Debian's python3-torch is installed (the resnet18 file is 45 MB, too big to commit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tidy, noGrad } from '../tensor';
import { loadSafetensors } from '../interop/weights';
import { importStateDict, writeImported, classifierHeads } from './import';

const ROOT = path.resolve(__dirname, '../../..');
const PY = '/usr/bin/python3';
const hasTorch = fs.existsSync(PY) && spawnSync(PY, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;
const skip = hasTorch ? false : 'skipped: python3-torch and python3-torchvision are not installed (apt-get install -y python3-torch python3-torchvision)';
const DEIT = { patchSize: 4, embedDim: 32, depth: 2, numHeads: 2 };

let dir = '';
function fixtures(): string {
  if (dir) return dir;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-import-'));
  const r = spawnSync(PY, [path.join(ROOT, 'test/reference/import_fixtures.py'), dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

function logitsMatch(model: any, x: any, want: any) {
  return tidy(() => noGrad(() => { model.eval(); return model.call(x).sub(want).abs().max().item() as number; }));
}

test('import torchvision resnet18: every key matched, PyTorch\'s logits', { skip }, () => {
  const d = fixtures();
  const ref = loadSafetensors(path.join(d, 'reference.safetensors')).tensors;
  const r = importStateDict(path.join(d, 'resnet18_torchvision.safetensors'), { from: 'torchvision', model: 'resnet18' });
  assert.deepEqual(r.report.unmatched, []);
  assert.deepEqual(r.report.missing, []);
  assert.deepEqual(r.report.misshaped, []);
  assert.equal(r.report.replacedHead, null);
  assert.equal(r.numClasses, 10);
  assert.equal(r.report.matched, r.model.stateDict().size);
  const diff = logitsMatch(r.model, ref.get('resnet18.x'), ref.get('resnet18.logits'));
  assert.ok(diff < 1e-4, `max |Δ logits| ${diff}`);
  // written with civet's names and the convention; loads strictly into a fresh model
  const out = path.join(d, 'r18.safetensors');
  writeImported(out, r, { from: 'torchvision', model: 'resnet18', source: 'resnet18_torchvision.safetensors' });
  const back = loadSafetensors(out);
  assert.equal(back.metadata['civet.num_classes'], '10');
  assert.deepEqual(JSON.parse(back.metadata['civet.normalize']), { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  assert.equal(back.metadata['civet.img_size'], '224');
  r.model.loadStateDict(back.tensors);
  for (const t of [...back.tensors.values(), ...ref.values()]) t.dispose();
  r.model.dispose();
});

test('import a 10-class checkpoint with --num-classes 7: the head is replaced and reported', { skip }, () => {
  const d = fixtures();
  const r = importStateDict(path.join(d, 'resnet18_torchvision.safetensors'), { from: 'torchvision', model: 'resnet18', numClasses: 7 });
  assert.deepEqual(r.report.replacedHead, { modules: ['fc'], fromClasses: 10, toClasses: 7 });
  assert.deepEqual(r.report.missing, []);
  assert.deepEqual(r.report.unmatched, []);
  assert.equal(r.report.matched, r.model.stateDict().size - 2);
  assert.deepEqual(r.model.stateDict().get('fc.weight')!.shape, [7, 512]);
  r.model.dispose();
  // the CLI says so
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin/civet'), 'import', path.join(d, 'resnet18_torchvision.safetensors'), '--from', 'torchvision', '--model', 'resnet18', '--num-classes', '7', path.join(d, 'r18_7.safetensors')], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /replaced classifier head fc: 10 → 7 classes, freshly initialised/);
  assert.match(cli.stdout, /unmatched source keys: none/);
  assert.ok(fs.existsSync(path.join(d, 'r18_7.safetensors')));
});

test('import timm-named distilled DeiT: every key matched, the reference forward\'s logits', { skip }, () => {
  const d = fixtures();
  const ref = loadSafetensors(path.join(d, 'reference.safetensors')).tensors;
  const r = importStateDict(path.join(d, 'deit_timm.safetensors'), { from: 'timm', model: 'deit_tiny_distilled', imgSize: 16, options: DEIT });
  assert.deepEqual([r.report.unmatched, r.report.missing, r.report.misshaped], [[], [], []]);
  assert.deepEqual(classifierHeads(r.model), ['head', 'head_dist']);
  const diff = logitsMatch(r.model, ref.get('deit.x'), ref.get('deit.logits'));
  assert.ok(diff < 1e-4, `max |Δ logits| ${diff}`);
  // at another image size the position embedding is resampled (and reported), not refused
  const big = importStateDict(path.join(d, 'deit_timm.safetensors'), { from: 'timm', model: 'deit_tiny_distilled', imgSize: 32, options: DEIT });
  assert.deepEqual(big.report.misshaped, []);
  assert.match(big.report.notes.join(' '), /pos_embed resampled from a 4×4 to a 8×8 grid/);
  for (const t of ref.values()) t.dispose();
  r.model.dispose(); big.model.dispose();
});

test('import: mis-named keys are reported as unmatched, missing weights are listed', { skip }, () => {
  const d = fixtures();
  // the torchvision resnet18 read as a timm RegNet: nothing lines up
  const r = importStateDict(path.join(d, 'resnet18_torchvision.safetensors'), { from: 'timm', model: 'regnety_200mf', numClasses: 10 });
  assert.ok(r.report.unmatched.includes('layer1.0.conv1.weight'));
  assert.ok(r.report.missing.includes('stem.conv.weight'));
  r.model.dispose();
  assert.throws(() => importStateDict(path.join(d, 'nope.safetensors'), { from: 'timm', model: 'resnet18' }), /nope\.safetensors: no such file/);
});
