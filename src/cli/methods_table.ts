import * as path from 'node:path';
import type { Command } from './commands';
import { writeMethodTableStudy, TABLE_METHODS, DEFAULT_PROTOCOL } from '../experiments/methods_table';

export const methodsTableCommand: Command = {
  summary: 'benchmark every classic KD method on Fashion-MNIST (same teacher, student, data; seeds; times)',
  usage: `civet methods-table [--seeds 0,1,2] [--only "kd,at"] [--steps N] [--out docs/results/classic_fmnist.html]

Trains one teacher (${DEFAULT_PROTOCOL.teacher}, CE) on ${DEFAULT_PROTOCOL.perClass} Fashion-MNIST images per class, then
every method of the classic family with the same student (${DEFAULT_PROTOCOL.student}), data, steps
(${DEFAULT_PROTOCOL.steps} of batch ${DEFAULT_PROTOCOL.batch}), SGD (lr ${DEFAULT_PROTOCOL.lr}, momentum 0.9, wd 5e-4, cosine) for every
seed, tests on all 10,000 test images, and writes an HTML report (mean ± std, time per run)
with .json and .md beside it. Methods: ${Object.keys(TABLE_METHODS).join('; ')}.`,
  options: {
    seeds: { type: 'string', default: '0,1,2' },
    only: { type: 'string' },
    steps: { type: 'string' },
    out: { type: 'string', default: 'docs/results/classic_fmnist.html' },
  },
  async run(v) {
    const seeds = String(v.seeds).split(',').map((x) => {
      if (!/^\d+$/.test(x.trim())) throw Object.assign(new Error(`--seeds: '${x}' is not a non-negative integer`), { name: 'ConfigError' });
      return Number(x);
    });
    const steps = v.steps === undefined ? DEFAULT_PROTOCOL.steps : Number(v.steps);
    if (!Number.isInteger(steps) || steps < 1) throw Object.assign(new Error(`--steps: expected a positive integer, got '${v.steps}'`), { name: 'ConfigError' });
    const out = path.resolve(String(v.out));
    const r = await writeMethodTableStudy({
      seeds, steps, out, madeBy: `civet methods-table ${process.argv.slice(3).join(' ')}`,
      methods: v.only ? String(v.only).split(',').map((s) => s.trim()) : undefined,
      log: (l) => process.stderr.write(l + '\n'),
      onRun: (x, i, n) => process.stderr.write(`[${i}/${n}] ${x.method} seed ${x.seed}: top-1 ${(100 * x.top1).toFixed(2)}% in ${x.timeSec.toFixed(1)} s\n`),
    });
    process.stdout.write(`report: ${r.out} (${(r.wallTimeSec / 60).toFixed(1)} min)\n`);
    return 0;
  },
};
