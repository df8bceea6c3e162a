// `civet methods` lists every registered method with its options from the schemas, and `civet
// train` refuses a bad method option with exit 2, the key named, before any run folder exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import { listMethods, methodOptionDocs, methodEntry } from '../distill/registry';
import { positive, nonNegative } from '../distill/options';
import { describeEntry } from './methods';
import '../distill';

const ROOT = path.resolve(__dirname, '../../..');
const civet = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin/civet'), ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, CIVET_THREADS: '1' } });

test('civet methods: every method, every option with its type and default', () => {
  const r = civet('methods');
  assert.equal(r.status, 0, r.stderr);
  for (const name of listMethods()) {
    assert.match(r.stdout, new RegExp(`^${name} — `, 'm'), `${name} listed`);
  }
  const kd = civet('methods', 'kd');
  assert.equal(kd.status, 0, kd.stderr);
  assert.match(kd.stdout, /^kd — Hinton KD/);
  assert.match(kd.stdout, /^ {4}temperature +number > 0 +default 4$/m);
  assert.match(kd.stdout, /^ {4}reduction +'batchmean' \| 'mean' \| 'sum' +default 'batchmean'$/m);
  for (const d of methodOptionDocs('kd')) assert.ok(kd.stdout.includes(d.key), d.key);
  assert.doesNotMatch(kd.stdout, /^dkd/m);
  const tfkd = civet('methods', 'tfkd');
  assert.match(tfkd.stdout, /alpha +number in \[0, 1\] +default 0\.1 \(virtual\), 0\.95 \(self\)/);
  const bad = civet('methods', 'kdd');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown distillation method 'kdd' \(did you mean 'kd'\?\)/);
});

test('civet train: a bad method option exits 2 naming the key, blamed on --set or the file, no run folder', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-options-'));
  const runs = path.join(out, 'runs');
  const r = civet('train', 'configs/default.yaml', '--set', 'method.name=kd', '--set', 'method.options.temperature=-1', '--out', runs);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim(), 'civet train: --set method.options.temperature=-1: method.options.temperature: expected a positive number');
  const s = civet('train', 'configs/default.yaml', '--set', 'method.name=kd', '--set', 'method.options.temperature="4"', '--out', runs);
  assert.equal(s.status, 2, s.stderr);
  assert.match(s.stderr, /method\.options\.temperature: expected number, got string/);
  // a bad value in the file is blamed on the file
  const file = path.join(out, 'bad.yaml');
  fs.writeFileSync(file, fs.readFileSync(path.join(ROOT, 'configs/default.yaml'), 'utf8') + 'method: { name: dkd, options: { beta: -8, warmup: 1 } }\n');
  const f = civet('train', file, '--out', runs);
  assert.equal(f.status, 2, f.stderr);
  assert.match(f.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: method\\.options: unknown key 'warmup' for method 'dkd' \\(did you mean 'warmupEpochs'\\?\\)`));
  assert.match(f.stderr, /bad\.yaml: method\.options\.beta: expected a number >= 0/);
  const u = civet('train', 'configs/default.yaml', '--set', 'method.name=dkdd', '--out', runs);
  assert.equal(u.status, 2, u.stderr);
  assert.match(u.stderr, /--set method\.name=dkdd: method\.name: unknown distillation method 'dkdd' \(did you mean 'dkd'\?\)/);
  assert.ok(!fs.existsSync(runs), 'no run folder was created');
  fs.rmSync(out, { recursive: true, force: true });
});

test('every method has a meaningful one-line summary, and every option of every method is listed with its type and default', () => {
  const summaries = new Map<string, string>();
  for (const name of listMethods()) {
    const s = methodEntry(name).summary;
    assert.ok(!/\n/.test(s), `${name}: the summary is one line`);
    assert.ok(s.length >= 30, `${name}: summary too short to say what the method does: '${s}'`);
    assert.ok(!/\b(TODO|TBD|FIXME|XXX)\b|^\W*$/i.test(s), `${name}: placeholder summary '${s}'`);
    assert.notEqual(s.replace(/[^a-z]/gi, '').toLowerCase(), name.replace(/[^a-z]/gi, '').toLowerCase(), `${name}: the summary only repeats the name`);
    assert.ok(!summaries.has(s), `${name} and ${summaries.get(s)} share a summary`);
    summaries.set(s, name);
  }
  const all = civet('methods');
  assert.equal(all.status, 0, all.stderr);
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const name of listMethods()) {
    const block = ('\n' + all.stdout).split(`\n${name} — `)[1]?.split('\n\n')[0] ?? '';
    for (const d of methodOptionDocs(name)) {
      assert.match(block, new RegExp(`^ {4}${esc(d.key)} +${esc(d.type)} +default ${esc(d.default)}`, 'm'), `${name}.${d.key}`);
    }
  }
});

test('option descriptions given with zod .describe() are printed beside the option', () => {
  const entry = {
    name: 'demo', summary: 'a demonstration entry, not a registered method', teachers: [1, 1] as [number, number],
    options: z.object({ temperature: positive(4).describe('softmax temperature of both sides'), weight: nonNegative(1) }).strict(),
  };
  const text = describeEntry(entry);
  assert.match(text, /^ {4}temperature {2}number > 0 {2}default 4 {2}softmax temperature of both sides$/m);
  assert.match(text, /^ {4}weight {7}number ≥ 0 {2}default 1$/m);
  // on the type inside the default as well
  const inner = describeEntry({ ...entry, options: z.object({ t: z.number().positive().describe('inner text').default(2) }).strict() });
  assert.match(inner, /default 2 +inner text$/m);
});
