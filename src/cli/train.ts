import type { Command } from './commands';
import { train, RunDirError } from '../train/trainer';
import { isFinished } from '../train/run_dir';
import { ConfigError } from '../train/schema';
import { writeReport } from '../report/html';

export const trainCommand: Command = {
  summary: 'train a student (optionally distilled) from a YAML config',
  usage: `civet train CONFIG.yaml [--set key.path=value]... [--out DIR]
civet train --resume RUN_DIR [--restart] [--break-lock]

Validates the config, trains, evaluates every epoch, writes checkpoints (RUN/checkpoints/last,
best), metrics.jsonl, TensorBoard events, summary.json and report.html in RUN = out/run.name.
--resume continues a run exactly where its last good checkpoint left it (data order included).
A run directory is locked while a run writes to it (RUN/run.lock); --break-lock breaks a stale
lock left by a process that is gone. When neither checkpoints/last nor prev can be used, --resume
refuses with the reasons; --restart trains the run again from the beginning instead. A run records
its teacher files' SHA-256 (RUN/teachers.json) when it starts; --resume refuses, naming the file,
when one has changed since (--restart trains again from the beginning with the new teacher).
Resuming a finished run leaves it as it is.
Exit status: 0 done, 1 training failed, 2 bad config or usage.`,
  options: {
    set: { type: 'string', multiple: true },
    resume: { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    restart: { type: 'boolean', default: false },
    'break-lock': { type: 'boolean', default: false },
  },
  async run(v, pos) {
    if (!v.resume && pos.length !== 1) { process.stderr.write('civet train: give one config file (or --resume RUN_DIR)\n'); return 2; }
    try {
      const finished = v.resume ? isFinished(v.resume) : false;
      const s = await train(v.resume ? null : pos[0], { set: v.set ?? [], resume: v.resume, out: v.out, quiet: v.quiet, restart: v.restart, breakLock: v['break-lock'] });
      if (finished) return 0;   // its summary and report are left as they are
      process.stdout.write(`${s.name}: top-1 ${(100 * s.top1).toFixed(2)}% (best ${(100 * s.bestTop1).toFixed(2)}%), top-5 ${(100 * s.top5).toFixed(2)}%, ECE ${s.ece.toFixed(4)}, ${s.steps} steps in ${s.wallTimeSec.toFixed(1)} s\n`);
      writeReport([s.runDir], s.report, `civet run ${s.name}`);
      process.stdout.write(`report: ${s.report}\n`);
      return 0;
    } catch (e: any) {
      if (e instanceof ConfigError || e instanceof RunDirError) { process.stderr.write(`civet train: ${e.message}\n`); return 2; }
      throw e;
    }
  },
};
