import type { Command } from './commands';
import { runStudy } from '../experiments/study';
import { claimVerdict, VERDICT_BADGE } from '../report/html';

export const studyCommand: Command = {
  summary: 'run a study: variants × seeds of training runs, a mean ± std table and checked claims',
  usage: `civet study STUDY.yaml [--jobs N] [--only a,b] [--seeds 0,1] [--out DIR] [--report FILE.html] [--set key=value]... [--quiet]
            [--reuse-stale] [--break-lock]

Trains the study's teachers once, then every variant for every seed (configs/experiments/ has
examples), and writes an HTML report with mean ± std over seeds and each claim (an ordering of
means) marked as holds / inconclusive / does not hold, plus the same as .json and .md beside it.
Finished runs are reused and interrupted ones resumed, so running the same command again
continues a study. A run is reused or resumed only while it is the run the study asks for: when
its config differs from the study's now (an edited study file or --set) or one of its teacher
files changed since it started (e.g. the variant it learns from was retrained), it is a new run:
the differing keys are printed, the old folder is kept as OUT/RUN.stale-N, and the run trains
again. --reuse-stale keeps (or resumes) such runs as they are instead, printing the differences.
A lock left by a run that was killed (its process on this host is gone) is broken with a note;
--break-lock also breaks a lock taken on another host.
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
    'reuse-stale': { type: 'boolean', default: false },
    'break-lock': { type: 'boolean', default: false },
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
    let r: Awaited<ReturnType<typeof runStudy>>;
    try {
      r = await runStudy(pos[0], { jobs, only: list(v.only), seeds, out: v.out, report: v.report, set: v.set ?? [], quiet: v.quiet, reuseStale: v['reuse-stale'], breakLock: v['break-lock'] });
    } catch (e: any) {
      // a run folder in use (or locked elsewhere) is a usage error, like in civet train
      if (e?.name === 'RunDirError') { process.stderr.write(`civet study: ${e.message}\n`); return 2; }
      throw e;
    }
    for (const c of r.study.claims) process.stdout.write(`${VERDICT_BADGE[claimVerdict(c)]}: ${c.text}\n    ${c.detail}\n`);
    process.stdout.write(`report: ${r.report}\n`);
    return 0;
  },
};
