import type { Command } from './commands';
// the workloads (and the models, data and sharp they load) are required only when bench runs
const bench = () => require('../../bench') as typeof import('../../bench');
import { setNumThreads } from '../tensor';

/** The workloads with teachers, which --cache and --student-only apply to. */
const TEACHER_WORKLOADS = ['civt-step', 'deit-step'];
/** The training workloads with a bf16 autocast variant (--bf16). */
const BF16_WORKLOADS = ['vit-ti32', 'civt-step', 'deit-step'];

export const benchCommand: Command = {
  summary: 'run a benchmark workload (JSON keys as the PyTorch reference)',
  get usage() {
    const { listWorkloads } = bench();
    return `civet bench WORKLOAD [--steps N] [--batch B] [--threads T] [--classes C] [--device cpu|cuda] [--cache | --student-only] [--bf16] [--json]

Workloads are those of bench/reference/torch_bench.py (listed in bench/index.ts):
${listWorkloads().map(([n, d]) => `  ${n.padEnd(20)} ${d}`).join('\n')}

--cache (civt-step, deit-step): the teachers answer from a teacher-output cache filled on every
view before timing, so the timed steps are replay steps. --student-only: the teachers' outputs
fixed, the student's step alone (the limit a cache approaches). --bf16 (vit-ti32, civt-step,
deit-step): forward and loss under bf16 autocast, float32 weights, optimizer and loss value (a
row to set beside the float32 one; the PyTorch reference has no such flag).
Run bench/side_by_side.sh to print civet and PyTorch figures together with their ratios.`;
  },
  options: {
    steps: { type: 'string', default: '10' },
    batch: { type: 'string', default: '64' },
    threads: { type: 'string' },
    classes: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
    device: { type: 'string', default: 'cpu' },
    cache: { type: 'boolean', default: false },
    'student-only': { type: 'boolean', default: false },
    bf16: { type: 'boolean', default: false },
  },
  async run(v, pos) {
    const { runWorkload, listWorkloads, defaultThreads } = bench();
    const name = pos[0];
    if (!name) {
      process.stderr.write(`civet bench: name a workload:\n${listWorkloads().map(([n, d]) => `  ${n.padEnd(20)} ${d}`).join('\n')}\n`);
      return 2;
    }
    const num = (k: string, x: string) => {
      const n = Number(x);
      // a usage error (exit 2), as main() treats ConfigErrors
      if (!Number.isInteger(n) || n < 1) throw Object.assign(new Error(`--${k} must be a positive integer, got '${x}'`), { name: 'ConfigError' });
      return n;
    };
    if (!listWorkloads().some(([n]) => n === name)) {
      process.stderr.write(`civet bench: unknown workload '${name}'; workloads:\n${listWorkloads().map(([n, d]) => `  ${n.padEnd(20)} ${d}`).join('\n')}\n`);
      return 2;
    }
    const threads = v.threads ? num('threads', v.threads) : defaultThreads();
    setNumThreads(threads);
    if (v.cache && v['student-only']) throw Object.assign(new Error('--cache and --student-only exclude each other'), { name: 'ConfigError' });
    const teacher = v.cache ? 'cache' : v['student-only'] ? 'none' : 'live';
    if (teacher !== 'live' && !TEACHER_WORKLOADS.includes(name)) throw Object.assign(new Error(`--${v.cache ? 'cache' : 'student-only'}: workload '${name}' has no teacher (distillation workloads: ${TEACHER_WORKLOADS.join(', ')})`), { name: 'ConfigError' });
    if (v.bf16 && !BF16_WORKLOADS.includes(name)) throw Object.assign(new Error(`--bf16: workload '${name}' has no bf16 variant (${BF16_WORKLOADS.join(', ')})`), { name: 'ConfigError' });
    const out = await runWorkload(name, { steps: num('steps', v.steps), batch: num('batch', v.batch), threads, classes: num('classes', v.classes), device: v.device, teacher, bf16: v.bf16 });
    if (v.json) process.stdout.write(JSON.stringify(out) + '\n');
    else for (const [k, x] of Object.entries(out)) process.stdout.write(`${k.padEnd(16)} ${typeof x === 'number' ? +x.toFixed(3) : x}\n`);
    return 0;
  },
};
