import type { Command } from './commands';
import { train, RunDirError } from '../train/trainer';
import { isFinished } from '../train/run_dir';
import { ConfigError } from '../train/schema';
import { writeReport } from '../report/html';
import { launch } from './launch';
import { writeFileAtomic } from '../util/atomic';

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

Data parallel (c10d: gloo on CPU, NCCL on CUDA), like torchrun:
  --nproc N            start N local workers; batchSize is the GLOBAL batch (split over all ranks)
  --nnodes M --node-rank K --master-addr HOST --master-port PORT   several machines (one launcher each)
  --max-restarts K     after a worker fails, restart all workers from the last checkpoint, K times
  --timeout SEC        a dead or hung worker brings the group down after this long (default 300)
  --grad-sync reducer|allreduce   c10d::Reducer overlapping backward (default) or one all-reduce after it
  --threads T          intra-op threads per worker (default: the cores split between the workers)
A scheduler may instead start the workers itself with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT set. Only rank 0 writes checkpoints, metrics, TensorBoard events and the report; batch
norm statistics are per rank (rank 0's buffers are broadcast before each step, as DDP does).
Exit status: 0 done, 1 training failed, 2 bad config or usage.`,
  options: {
    set: { type: 'string', multiple: true },
    resume: { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    restart: { type: 'boolean', default: false },
    'break-lock': { type: 'boolean', default: false },
    nproc: { type: 'string' },
    nnodes: { type: 'string' },
    'node-rank': { type: 'string' },
    'master-addr': { type: 'string' },
    'master-port': { type: 'string' },
    'max-restarts': { type: 'string' },
    timeout: { type: 'string' },
    'grad-sync': { type: 'string' },
    threads: { type: 'string' },
  },
  async run(v, pos) {
    if (!v.resume && pos.length !== 1) { process.stderr.write('civet train: give one config file (or --resume RUN_DIR)\n'); return 2; }
    const launcher = ['nproc', 'nnodes', 'node-rank', 'master-addr', 'master-port', 'max-restarts', 'timeout', 'grad-sync', 'threads'];
    if (launcher.some((k) => v[k] !== undefined)) {
      if (process.env.WORLD_SIZE !== undefined) { process.stderr.write('civet train: --nproc inside a distributed worker (WORLD_SIZE is set): start either the launcher or the workers\n'); return 2; }
      const int = (k: string, min: number, d?: number): number | undefined => {
        if (v[k] === undefined) return d;
        const n = Number(v[k]);
        if (!Number.isInteger(n) || n < min) throw new RangeError(`--${k}: expected an integer >= ${min}, got '${v[k]}'`);
        return n;
      };
      let o;
      try {
        const gs = v['grad-sync'];
        if (gs !== undefined && gs !== 'reducer' && gs !== 'allreduce') throw new RangeError(`--grad-sync: expected reducer or allreduce, got '${gs}'`);
        const timeout = v.timeout === undefined ? undefined : Number(v.timeout);
        if (timeout !== undefined && !(timeout > 0)) throw new RangeError(`--timeout: expected a positive number of seconds, got '${v.timeout}'`);
        o = {
          nproc: int('nproc', 1, 1)!, nnodes: int('nnodes', 1, 1), nodeRank: int('node-rank', 0, 0), masterAddr: v['master-addr'],
          masterPort: int('master-port', 1), maxRestarts: int('max-restarts', 0, 0), threads: int('threads', 1),
          timeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000), gradSync: gs as 'reducer' | 'allreduce' | undefined,
        };
      } catch (e: any) { process.stderr.write(`civet train: ${e.message}\n`); return 2; }
      const args = [...(v.resume ? ['--resume', v.resume] : [pos[0]]), ...(v.set ?? []).flatMap((x: string) => ['--set', x]),
        ...(v.out ? ['--out', v.out] : []), ...(v.quiet ? ['--quiet'] : []), ...(v.restart ? ['--restart'] : []), ...(v['break-lock'] ? ['--break-lock'] : [])];
      return launch({ ...o, trainArgs: args, resumeDir: v.resume });
    }
    try {
      const finished = v.resume ? isFinished(v.resume) : false;
      const runDirFile = process.env.CIVET_LAUNCH_RUN_DIR_FILE;
      const onRunDir = runDirFile && (process.env.RANK ?? '0') === '0' ? (d: string) => writeFileAtomic(runDirFile, d) : undefined;
      const s = await train(v.resume ? null : pos[0], { set: v.set ?? [], resume: v.resume, out: v.out, quiet: v.quiet, restart: v.restart, breakLock: v['break-lock'], onRunDir });
      if (finished) return 0;   // its summary and report are left as they are
      if (process.env.RANK !== undefined && process.env.RANK !== '0') return 0;   // rank 0 reports
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
