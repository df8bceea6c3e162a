import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { runConformance } from './runner';
import { liveTensors } from '../tensor';

const ROOT = path.resolve(__dirname, '../../..');
const OPS = path.join(ROOT, 'test/fixtures/golden/ops.json');

test('every op case of the PyTorch goldens passes, none skipped, nothing leaked', () => {
  const live = liveTensors();
  const s = runConformance([OPS]);
  const failed = s.results.filter((r) => r.outcome.status !== 'passed').map((r) => `${r.name}: ${JSON.stringify(r.outcome)}`);
  assert.deepEqual(failed, []);
  assert.equal(s.passed, 27);
  assert.equal(liveTensors(), live);
});

test('a tampered golden value fails with the worst element named; unknown names are skipped', () => {
  const g = JSON.parse(fs.readFileSync(OPS, 'utf8'));
  const relu = g.cases.find((c: any) => c.name === 'relu');
  relu.expected.output.data[3] += 0.5;
  g.cases.push({ ...relu, name: 'not_an_op_civet_knows' });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civet-conf-')), 'tampered.json');
  fs.writeFileSync(file, JSON.stringify(g));
  const lines: string[] = [];
  const s = runConformance([file], (l) => lines.push(l));
  assert.equal(s.failed, 1);
  assert.equal(s.skipped, 1);
  assert.match(lines.join('\n'), /FAIL tampered\.json#\d+ op relu: output: element 3/);
  assert.equal(lines[lines.length - 1], `${s.passed} passed, 1 failed, 1 skipped`);
  // the CLI exits non-zero on a failure and zero when all pass
  const bad = spawnSync(process.execPath, [path.join(ROOT, 'bin/civet'), 'conformance', file], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  const good = execFileSync(process.execPath, [path.join(ROOT, 'bin/civet'), 'conformance', OPS], { encoding: 'utf8' });
  assert.match(good, /27 passed, 0 failed, 0 skipped\n$/);
});

test('a file that is not a golden file is a clear error', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civet-conf-')), 'x.json');
  fs.writeFileSync(file, '{"cases": 3}');
  assert.throws(() => runConformance([file]), /x\.json: not a golden file/);
  fs.writeFileSync(file, '{oops');
  assert.throws(() => runConformance([file]), /x\.json: not valid JSON/);
});
