import * as path from 'node:path';
import type { Command } from './commands';
import { runMethodTable, TABLE_METHODS, DEFAULT_PROTOCOL } from '../distill/benchmark';
import { writeStudyReport, Study, meanStd } from '../report/html';
import { studyMarkdown } from '../train/study';
import { writeFileAtomic } from '../util/atomic';

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
    const t0 = Date.now();
    const r = await runMethodTable({
      seeds, methods: v.only ? String(v.only).split(',').map((s) => s.trim()) : undefined,
      protocol: { steps, gridDir: path.dirname(out) },
      log: (l) => process.stderr.write(l + '\n'),
      onRun: (x, i, n) => process.stderr.write(`[${i}/${n}] ${x.method} seed ${x.seed}: top-1 ${(100 * x.top1).toFixed(2)}% in ${x.timeSec.toFixed(1)} s\n`),
    });
    const p = r.protocol;
    const argv = process.argv.slice(3).join(' ');
    const ce = r.groups.find((g) => g.name.startsWith('ce'));
    const kd = r.groups.find((g) => g.name === 'kd');
    const mean = (g: typeof ce) => meanStd(g!.runs.map((x) => x.top1 as number)).mean;
    const study: Study = {
      title: 'The classic KD family on Fashion-MNIST',
      description:
        `One protocol for every method: teacher ${p.teacher} trained once with CE (${p.teacherSteps} steps; top-1 ${(100 * r.teacherTop1).toFixed(2)}%, ${r.teacherSec.toFixed(0)} s), ` +
        `student ${p.student} from scratch, ${p.perClass} training images per class (the same subset for every seed), ${p.steps} steps of batch ${p.batch}, ` +
        `SGD lr ${p.lr} momentum 0.9 weight decay 5e-4 with a cosine schedule, ${p.threads} libtorch threads; top-1 on all 10,000 test images. ` +
        `Each method uses its paper/official-code defaults (methods.md), except the epoch-based schedules, scaled to ~16 epochs: DKD's warm-up (1 epoch here, 20 of 240 there) and FSP's first stage (2 epochs here, 30 of 240 there) and CRD's negatives (256 bank / 512 queue for a 1,000-image set). ` +
        `Schemes of several trainings count all of them in their time: Tf-KD self (pre-trained student first), TAKD (assistant ${p.assistant}, then student), IFKD + auxiliary (${p.assistant} first), ` +
        `active mixup (3 students: real images, then 2 stages of 500 queried mixes), data-free (${p.synthImages} images synthesized in ${p.synthIterations} iterations, then KD on them only — no real image is seen). ` +
        `Made by: civet methods-table ${argv}`.trim(),
      groups: [{ name: `teacher (${p.teacher}, CE)`, runs: [{ seed: 0, top1: r.teacherTop1, 'time (s)': r.teacherSec }] }, ...r.groups],
      claims: ce && kd ? [{ text: 'Hinton KD beats the student trained alone', holds: mean(kd) > mean(ce), detail: `top1 means: kd ${(100 * mean(kd)).toFixed(2)}%, ce ${(100 * mean(ce)).toFixed(2)}%` }] : [],
    };
    writeStudyReport(study, out);
    const base = out.replace(/\.html?$/, '');
    writeFileAtomic(`${base}.json`, JSON.stringify({ protocol: p, seeds, teacherTop1: r.teacherTop1, groups: study.groups, wallTimeSec: (Date.now() - t0) / 1000 }, null, 2));
    writeFileAtomic(`${base}.md`, studyMarkdown(study, 'top1'));
    process.stdout.write(`report: ${out} (${((Date.now() - t0) / 60000).toFixed(1)} min)\n`);
    return 0;
  },
};
