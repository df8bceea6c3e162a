import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import './losses_classic';
import { runConformance } from '../runner';
import { PART2_LOSS_CASES } from './losses_classic';

test('classic KD losses match the PyTorch goldens', () => {
  const file = path.resolve(__dirname, '../../../../test/fixtures/golden/losses.json');
  const lines: string[] = [];
  const s = runConformance([file], (l) => lines.push(l));
  const mine = s.results.filter((r) => (PART2_LOSS_CASES as readonly string[]).includes(r.name));
  const failed = mine.filter((r) => r.outcome.status !== 'passed');
  assert.equal(failed.length, 0, lines.join('\n'));
  for (const n of PART2_LOSS_CASES) assert.ok(mine.some((r) => r.name === n), `no golden case for ${n}`);
  assert.ok(mine.length >= 15);
});
