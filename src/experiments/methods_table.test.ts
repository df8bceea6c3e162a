// The methods table harness on a tiny budget: every result is a real accuracy on the test set with
// its time, and unknown method names are refused before anything trains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMethodTable, TABLE_METHODS } from './methods_table';
import { listMethods } from '../distill/registry';

test('methods table: two methods, one seed, tiny budget', async () => {
  const seen: string[] = [];
  const r = await runMethodTable({
    seeds: [0], methods: ['ce (student alone)', 'kd'],
    protocol: { perClass: 10, teacherSteps: 20, steps: 10, threads: 1 },
    onRun: (x) => seen.push(x.method),
  });
  assert.deepEqual(seen, ['ce (student alone)', 'kd']);
  assert.ok(r.teacherTop1 >= 0 && r.teacherTop1 <= 1, `teacher accuracy ${r.teacherTop1}`);
  for (const g of r.groups) {
    assert.equal(g.runs.length, 1);
    const { top1, 'time (s)': t } = g.runs[0] as any;
    assert.ok(top1 >= 0 && top1 <= 1 && t > 0, JSON.stringify(g.runs[0]));
  }
  await assert.rejects(runMethodTable({ seeds: [0], methods: ['nope'] }), /methods-table: unknown method 'nope'/);
});

test('the table covers every registered classic method', () => {
  // each registered method of the classic family appears in the table (by its name in a label)
  const covered = Object.keys(TABLE_METHODS).join(' | ').replace(/-/g, '_').replace(/overhaul \(ofd\)/, 'ofd');
  const classic = ['kd', 'label_smoothing', 'tfkd', 'dkd', 'cs_kd', 'fitnets', 'at', 'sp', 'rkd', 'pkt', 'fsp', 'crd', 'ofd', 'ifkd', 'kdcl', 'takd', 'bss'];
  for (const m of classic) {
    assert.ok(listMethods().includes(m), `${m} is registered`);
    assert.ok(new RegExp(`(^|[ (|])${m}([ )|]|$)`).test(covered.replace(/label smoothing/, 'label_smoothing')), `${m} is in the table`);
  }
});
