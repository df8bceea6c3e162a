// The bad-config table: every mistake a config can hold is one ConfigError (exit 2 from the CLI)
// that names the file (or the --set) and the key path, found before any work starts — no data
// loaded, no run folder created. Most rows go through train(); a few run the CLI as a child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { train } from './trainer';
import { ConfigError } from './schema';
import { createModel } from '../models/registry';
import { saveWeights } from '../interop/weights';
import '../models';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin/civet');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-preflight-'));
const out = path.join(dir, 'runs');

function config(extra: Record<string, any> = {}): any {
  return {
    run: { name: 'bad', deterministic: true },
    student: { model: 'tiny_cnn', options: { width: 4 } },
    data: { dataset: 'fashion-mnist', subsetPerClass: 2, testSubsetPerClass: 2, imgSize: 28, channels: 1 },
    optimizer: { name: 'sgd', lr: 0.05 },
    epochs: 1, batchSize: 8,
    ...extra,
  };
}

// a tiny_cnn teacher trained for 5 classes (the data has 10), and one for 10
const fiveClasses = path.join(dir, 'teacher5.safetensors'), tenClasses = path.join(dir, 'teacher10.safetensors');
for (const [file, n] of [[fiveClasses, 5], [tenClasses, 10]] as const) {
  const m = createModel('tiny_cnn', { numClasses: n, inChans: 1, imgSize: 28, width: 4 });
  saveWeights(m, file);
  m.dispose();
}
const kd = (teacher: Record<string, any>) => ({ teachers: [{ model: 'tiny_cnn', options: { width: 4 }, ...teacher }], method: { name: 'kd' } });

// [what, config, --set overrides, the whole first line of the error]
const TABLE: [string, any, string[], RegExp][] = [
  ['typo at the top level', config({ epoch: 2 }), [], /^<config object>: \(top level\): unknown key 'epoch' \(did you mean 'epochs'\?\)$/],
  ['typo in a section', config({ optimizer: { name: 'sgd', lr: 0.05, momentun: 0.9 } }), [], /^<config object>: optimizer: unknown key 'momentun' \(did you mean 'momentum'\?\)$/],
  ['typo two levels down', config({ data: { ...config().data, augment: { flipp: true } } }), [], /^<config object>: data\.augment: unknown key 'flipp' \(did you mean 'flip'\?\)$/],
  ['typo in a teacher', config(kd({ weight: tenClasses })), [], /^<config object>: teachers\.0: unknown key 'weight' \(did you mean 'weights'\?\)$/],
  ['unknown model', config({ student: { model: 'tiny_cn' } }), [], /^<config object>: student\.model: unknown model 'tiny_cn' \(did you mean 'tiny_cnn'\?\); known: .*resnet20/],
  ['unknown teacher model', config(kd({ model: 'resnet200', weights: tenClasses })), [], /^<config object>: teachers\.0\.model: unknown model 'resnet200'/],
  ['unknown model option', config({ student: { model: 'tiny_cnn', options: { widht: 16 } } }), [], /^<config object>: student\.options: unknown key 'widht' for model 'tiny_cnn' \(did you mean 'width'\?\); known: /],
  ['model option out of range', config({ student: { model: 'tiny_cnn', options: { numClasses: 0 } } }), [], /^<config object>: student\.options\.numClasses: expected an integer >= 1/],
  ['model option of another family', config({ student: { model: 'vit_tiny', options: { baseWidth: 32 } } }), [], /^<config object>: student\.options: unknown key 'baseWidth' for model 'vit_tiny'/],
  ['student class count against the data', config({ student: { model: 'tiny_cnn', options: { numClasses: 7 } } }), [], /^<config object>: student\.options\.numClasses: 7 classes, but the data has 10$/],
  ['unknown method', config({ method: { name: 'fitnet' } }), [], /^<config object>: method\.name: unknown distillation method 'fitnet' \(did you mean 'fitnets'\?\)/],
  ['bad method option value', config({ ...kd({ weights: tenClasses }), method: { name: 'kd', options: { temperature: -1 } } }), [], /^<config object>: method\.options\.temperature: expected a positive number$/],
  ['method without its teacher', config({ method: { name: 'kd' } }), [], /^<config object>: teachers: method 'kd' needs 1–\d+ teacher\(s\), got 0$|^<config object>: teachers: method 'kd' needs 1 teacher\(s\), got 0$/],
  ['missing teacher file', config(kd({ weights: path.join(dir, 'nope.safetensors') })), [], /^<config object>: teachers\.0\.weights: no such file: .*nope\.safetensors$/],
  ['teacher file that is not safetensors', config(kd({ weights: path.join(ROOT, 'package.json') })), [], /^<config object>: teachers\.0\.weights: .*package\.json: not a safetensors file/],
  ['teacher class count', config(kd({ weights: fiveClasses })), [], /^<config object>: teachers\.0\.weights: the teacher has 5 classes \(fc\.weight is \[5,16\]\), but the data \(fashion-mnist\) has 10$/],
  ['teacher of another width', config(kd({ weights: tenClasses, options: { width: 8 } })), [], /^<config object>: teachers\.0\.weights: \d+ tensor\(s\) do not fit 'tiny_cnn' with these options: features\.0\.0\.weight is \[4,1,3,3\] in the file, \[8,1,3,3\] in the model/],
  ['teacher run that is not a run', config({ teachers: [{ run: dir }], method: { name: 'kd' } }), [], /^<config object>: teachers\.0\.run: '.*' is not a civet run \(no config\.json\)$/],
  ['missing data', config({ data: { ...config().data, root: path.join(dir, 'no-data') } }), [], /^<config object>: data\.root: Fashion-MNIST files missing in .*no-data: train-images-idx3-ubyte, /],
  ['imagefolder without folders', config({ data: { dataset: 'imagefolder', root: path.join(dir, 'no-train'), valRoot: path.join(dir, 'no-val') } }), [], /^<config object>: data\.root: no such directory: .*no-train\n<config object>: data\.valRoot: no such directory/],
  ['--set typo', config(), ['optimizer.lrr=0.1'], /^--set optimizer\.lrr=0\.1: optimizer: unknown key 'lrr' \(did you mean 'lr'\?\)$/],
  ['--set model option typo', config(), ['student.options.widht=8'], /^--set student\.options\.widht=8: student\.options: unknown key 'widht' for model 'tiny_cnn' \(did you mean 'width'\?\)/],
  ['--set unknown model', config(), ['student.model=resnet2'], /^--set student\.model=resnet2: student\.model: unknown model 'resnet2'/],
  ['--set missing teacher file', config(kd({ weights: tenClasses })), [`teachers=[{model: tiny_cnn, weights: ${path.join(dir, 'gone.safetensors')}}]`], /^--set teachers=.*: teachers\.0\.weights: no such file/],
  ['--set into a prototype', config(), ['__proto__.epochs=-1'], /^--set __proto__\.epochs=-1: '__proto__' is not allowed in a key path$/],
];

test('bad-config table: each mistake is a ConfigError naming where it is, and no run folder is made', async () => {
  for (const [what, cfg, sets, re] of TABLE) {
    let err: unknown = null;
    try { await train(cfg, { out, set: sets, quiet: true, log: () => {} }); } catch (e) { err = e; }
    assert.ok(err instanceof ConfigError, `${what}: expected a ConfigError, got ${err === null ? 'a finished run' : String(err)}`);
    assert.match((err as Error).message, re, what);
    assert.equal(fs.existsSync(out), false, `${what}: a run folder was created`);
  }
  assert.equal(({} as any).epochs, undefined, 'Object.prototype was polluted');
});

test('every problem of a config is listed at once', async () => {
  const cfg = config({ student: { model: 'tiny_cnn', options: { widht: 4 } }, ...kd({ weights: path.join(dir, 'nope.safetensors') }) });
  await assert.rejects(train(cfg, { out, quiet: true, log: () => {} }), (e: any) => {
    assert.equal(e.message.split('\n').length, 2, e.message);
    assert.match(e.message, /student\.options: unknown key 'widht'/);
    assert.match(e.message, /teachers\.0\.weights: no such file/);
    return true;
  });
});

test('a teacher whose file fits passes the checks (the table rows fail for their own reason)', async () => {
  // the same config as the class-count row with the 10-class file: it trains (1 epoch, 2 images a class)
  const s = await train(config(kd({ weights: tenClasses })), { out, quiet: true, log: () => {} });
  assert.equal(s.epochs, 1);
  fs.rmSync(out, { recursive: true, force: true });
});

test('the CLI exits 2 and names the file and key path; nothing is written', () => {
  const file = path.join(dir, 'bad.yaml');
  const cliOut = path.join(dir, 'cli-runs');
  const rows: [any, string[], RegExp][] = [
    [config({ student: { model: 'tiny_cn' } }), [], /bad\.yaml: student\.model: unknown model 'tiny_cn' \(did you mean 'tiny_cnn'\?\)/],
    [config(), ['--set', 'epochz=2'], /--set epochz=2: \(top level\): unknown key 'epochz' \(did you mean 'epochs'\?\)/],
    [config({ data: { ...config().data, root: path.join(dir, 'no-data') } }), [], /bad\.yaml: data\.root: Fashion-MNIST files missing/],
    [config(kd({ weights: fiveClasses })), [], /bad\.yaml: teachers\.0\.weights: the teacher has 5 classes .* the data \(fashion-mnist\) has 10/],
  ];
  for (const [cfg, extra, re] of rows) {
    fs.writeFileSync(file, YAML.stringify(cfg));
    const r = spawnSync(process.execPath, [CLI, 'train', file, '--quiet', '--out', cliOut, ...extra], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(fs.existsSync(cliOut), false);
  }
});
