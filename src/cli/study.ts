import type { Command } from './commands';
import { runStudy } from '../experiments/study';
import { claimVerdict, VERDICT_BADGE } from '../report/html';

export const studyCommand: Command = {
  summary: 'run a study: variants × seeds of training runs, a mean ± std table and checked claims',
  usage: `civet study STUDY.yaml [--jobs N] [--only a,b] [--seeds 0,1] [--out DIR] [--report FILE.html] [--set key=value]... [--quiet]

Trains the study's teachers once, then every variant for every seed (configs/experiments/ has
examples), and writes an HTML report with mean ± std over seeds and each claim (an ordering of
means) marked as holding or not, plus the same as .json and .md beside it. Finished runs are
reused and interrupted ones resumed, so running the same command again continues a study.
--jobs N runs N trainings at once, each in its own process with cores/N libtorch threads
(on small models two 1-thread runs beat one 2-thread run). --set applies key=value to every run's config (e.g. --set epochs=2 for a smoke test).`,
  options: {
    only: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    seeds: { type: 'string' },
    out: { type: 'string' },
    report: { type: 'string' },
    set: { type: 'string', multiple: true },
    quiet: { type: 'boolean', default: false },
  },
  async run(v, pos) {
    if (pos.length !== 1) { process.stderr.write('civet study: give one study file\n'); return 2; }
    const list = (s?: string) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);
    const seeds = list(v.seeds)?.map((x) => {
      if (!/^\d+$/.test(x)) throw Object.assign(new Error(`--seeds: '${x}' is not a non-negative integer`), { name: 'ConfigError' });
      return Number(x);
    });
    const jobs = Number(v.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw Object.assign(new Error(`--jobs: expected a positive integer, got '${v.jobs}'`), { name: 'ConfigError' });
    const r = await runStudy(pos[0], { jobs, only: list(v.only), seeds, out: v.out, report: v.report, set: v.set ?? [], quiet: v.quiet });
    for (const c of r.study.claims) process.stdout.write(`${VERDICT_BADGE[claimVerdict(c)]}: ${c.text}\n    ${c.detail}\n`);
    process.stdout.write(`report: ${r.report}\n`);
    return 0;
  },
};
