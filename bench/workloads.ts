// What a `civet bench` workload is, and the timing helpers they share. Each workload returns the
// same JSON keys as bench/reference/torch_bench.py so the two front ends can be printed side by
// side; bench/index.ts lists every workload.
import * as os from 'node:os';
import { randn, noGrad, tidy, buildInfo, getNumThreads, synchronize, autocast, Tensor } from '../src/tensor';

export interface BenchArgs {
  steps: number; batch: number; threads: number; classes: number; device: string;
  /** distillation workloads: 'cache' replays teacher outputs from a warmed cache, 'none' times the student-only step (bench/teacher_modes.ts) */
  teacher?: 'live' | 'cache' | 'none';
  /** the forward and loss under bf16 autocast (float32 weights, optimizer and loss value), as the trainer's precision: bf16 */
  bf16?: boolean;
}

/** `fn` (a forward and its loss) under bf16 autocast when asked, its loss returned in float32. */
export function maybeBf16(a: Pick<BenchArgs, 'bf16' | 'device'>, fn: () => Tensor): Tensor {
  if (!a.bf16) return fn();
  return autocast(fn, { device: a.device.startsWith('cuda') ? 'cuda' : 'cpu', dtype: 'bfloat16' }).to('float32');
}
export type BenchResult = Record<string, number | string | number[]>;
export type Workload = (a: BenchArgs) => BenchResult | Promise<BenchResult>;

export interface WorkloadDef { name: string; describe: string; run: Workload }
export function workload(name: string, describe: string, run: Workload): WorkloadDef { return { name, describe, run }; }

/** Runs `w` and adds the keys every result carries (workload, batch, threads, torch, memory). */
export async function runOne(w: WorkloadDef, a: BenchArgs): Promise<BenchResult> {
  const name = w.name;
  const out = await w.run(a);
  return {
    ...out, workload: name, ...(a.teacher && a.teacher !== 'live' ? { teacher: a.teacher === 'cache' ? 'cached' : 'student-only' } : {}), ...(a.bf16 ? { precision: 'bf16' } : {}), batch: a.batch, threads: getNumThreads(), torch: buildInfo().torch, front_end: 'civet', device: a.device,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** Median wall time of `step` after warm-up, in seconds. Each step runs inside tidy(); on a GPU
 *  the clock stops only after the device has finished the step's kernels. */
export function timeSteps(step: () => unknown, steps: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) tidy(() => { step(); });
  synchronize();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = process.hrtime.bigint();
    tidy(() => { step(); });
    synchronize();
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return median(times);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// One 1-element add without autograd, as torch_bench.py's op-overhead: the per-op cost of the
// front end (JS → N-API → ATen dispatch → handle for the result). Results are freed as made,
// which is what Python's refcounting does for its side; the loop runs inside tidy() as civet
// code does (tensors inside a scope need no garbage-collector registration).
export const opOverhead = workload('op-overhead', 'median ns per 1-element add (no autograd)', (args) => {
  const a = randn([1], { device: args.device }), b = randn([1], { device: args.device });
  const n = 200_000;
  const ns = noGrad(() => tidy(() => {
    for (let i = 0; i < 1000; i++) a.add(b).dispose();
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) a.add(b).dispose();
    return Number(process.hrtime.bigint() - t) / n;
  }));
  a.dispose(); b.dispose();
  return { ns_per_op: ns };
});

export function defaultThreads(): number { return os.availableParallelism?.() ?? os.cpus().length; }
export type { Tensor };
