// The Part I losses (Co-advise, DeiT soft/hard, CSKD dense term, OFA) match the PyTorch goldens.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import './losses_crossarch';
import { runConformance } from '../runner';

const PART1 = ['coadvise', 'deit_soft', 'deit_hard', 'cskd', 'ofa'];

test('cross-architecture losses match the PyTorch goldens', () => {
  const file = path.resolve(__dirname, '../../../../test/fixtures/golden/losses.json');
  const lines: string[] = [];
  const s = runConformance([file], (l) => lines.push(l));
  const mine = s.results.filter((r) => PART1.includes(r.name));
  const failed = mine.filter((r) => r.outcome.status !== 'passed');
  assert.equal(failed.length, 0, lines.join('\n'));
  for (const n of PART1) assert.ok(mine.some((r) => r.name === n), `no golden case for ${n}`);
  assert.equal(mine.length, 9);
});
