// Every public function of F against PyTorch: test/fixtures/golden/functional.json (made by
// test/reference/golden_functional.py with Debian's python3-torch) holds a case for each, and the
// runner evaluates all of them by name: 0 skipped, 0 failed, nothing leaked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { liveTensors, randn, tidy } from '../../tensor';
import { runConformance } from '../runner';
import { readGoldenFile } from '../golden';
import { functionalNames, functionalParams, callFunctional } from './functional';

const FILE = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'golden', 'functional.json');

test('the fixture has a case for every public function of F', () => {
  const named = new Set(readGoldenFile(FILE).cases.map((c) => c.name));
  const missing = functionalNames().filter((n) => !named.has(n));
  assert.deepEqual(missing, [], `F functions without a golden case (add them to test/reference/golden_functional.py): ${missing.join(', ')}`);
  for (const n of ['conv_transpose2d', 'nll_loss', 'embedding', 'binary_cross_entropy_with_logits']) assert.ok(named.has(n), n);
});

test('every F case passes against PyTorch, none skipped, nothing leaked', () => {
  const live = liveTensors();
  const lines: string[] = [];
  const s = runConformance([FILE], (l) => lines.push(l));
  assert.deepEqual([s.failed, s.skipped], [0, 0], lines.join('\n'));
  assert.equal(s.passed, readGoldenFile(FILE).cases.length);
  assert.equal(liveTensors(), live);
});

test("F's parameters are read from its source; unknown keyword arguments are named", () => {
  assert.deepEqual(functionalParams('conv2d'), [
    { name: 'input', options: false }, { name: 'weight', options: false }, { name: 'bias', options: false }, { name: 'o', options: true },
  ]);
  assert.deepEqual(functionalParams('hardtanh').map((p) => p.name), ['x', 'min_val', 'max_val']);
  tidy(() => {
    const x = randn([2, 3]);
    assert.throws(() => callFunctional('relu', { input: x }, { inplace: true }), /F\.relu\(x\) has no parameter for 'inplace'/);
    // positional keyword (dim) and torch's name for civet's x both land
    assert.deepEqual(callFunctional('softmax', { input: x }, { dim: 1 }).shape, [2, 3]);
  });
});
