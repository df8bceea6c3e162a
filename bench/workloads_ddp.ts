// ddp-scaling: data-parallel throughput on this machine, 1 process × 1 thread against 2 processes
// × 1 thread (gloo over localhost), for the resnet18-32 and civt-step training steps (the same
// models, losses and optimizers as those workloads). Weak scaling, as DDP is usually measured:
// every process takes --batch images per step, so 2 processes train on 2 × batch per step;
// efficiency = images/s of 2 processes / (2 × images/s of 1). The 2-process figure is taken with
// c10d::Reducer (all-reduce overlapping backward, civet's default) and again with one bucketed
// all-reduce after backward, so the overlap's gain is measured rather than assumed. Each
// configuration runs in fresh worker processes (this file, started with CIVET_BENCH_DDP_WORKER);
// a step's time is the slowest rank's median. The three configurations of a model are measured in
// turn, twice, and each keeps its better figure, so a burst of load from other processes on a
// shared machine hurts one configuration less than it would in a single pass.
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { randn, randint, tidy, F, manualSeed, setNumThreads, noGrad, type Tensor } from '../src/tensor';
import { SGD } from '../src/optim/sgd';
import { AdamW } from '../src/optim/adamw';
import { createModel } from '../src/models/registry';
import '../src/models';
import '../src/distill';
import { createDistiller } from '../src/distill/registry';
import { ProcessGroup } from '../src/distributed';
import { workload, timeSteps, type BenchArgs } from './workloads';

type Model = 'resnet18-32' | 'civt-step';
type Sync = 'reducer' | 'allreduce';

/** One rank's step function over its own fixed random batch. */
function buildStep(model: Model, a: BenchArgs, rank: number): { params: Tensor[]; step: (sync: (loss: Tensor) => void) => void } {
  manualSeed(0);
  if (model === 'resnet18-32') {
    const m = createModel('resnet18', { numClasses: a.classes }).train();
    const opt = new SGD(m, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    manualSeed(1 + rank);
    const x = randn([a.batch, 3, 32, 32]).keep(), y = randint(0, a.classes, [a.batch]).keep();
    return { params: m.parameters(), step: (sync) => { opt.zeroGrad(); const loss = tidy(() => F.cross_entropy(m.call(x), y)); sync(loss); loss.dispose(); opt.step(); } };
  }
  const o = { numClasses: a.classes, imgSize: 32 };
  const student = createModel('civt_tiny', o);
  const d = createDistiller('coadvise', { student, teachers: [createModel('resnet18', o), createModel('rednet26', o)], numClasses: a.classes, imgSize: 32, inChans: 3 }, {}).train();
  const opt = new AdamW(student, { lr: 1e-3, weightDecay: 0.05 });
  manualSeed(1 + rank);
  const x = randn([a.batch, 3, 32, 32]).keep(), y = randint(0, a.classes, [a.batch]).keep();
  const params = d.parameters().filter((p) => p.requiresGrad);
  return {
    params,
    step: (sync) => {
      opt.zeroGrad();
      const loss = tidy(() => Object.values(d.trainStep({ x, y }, { step: 0, epoch: 0, totalEpochs: 1, stepsPerEpoch: 1 }).terms).reduce((s, t) => s.add(t)));
      sync(loss); loss.dispose(); opt.step();
    },
  };
}

function worker(): void {
  const a = JSON.parse(process.env.CIVET_BENCH_DDP_WORKER!) as BenchArgs & { model: Model; sync: Sync };
  setNumThreads(1);
  const g = ProcessGroup.fromEnv({ timeoutMs: 600_000 });
  const { params, step } = buildStep(a.model, a, g?.rank ?? 0);
  let sync = (loss: Tensor) => loss.backward();
  if (g) {
    noGrad(() => g.broadcast(params, 0));   // as DDP starts: rank 0's weights everywhere
    if (a.sync === 'reducer') {
      const r = g.reducer(params);
      sync = (loss) => { r.prepareForward(); r.backward(loss); };
    } else sync = (loss) => { loss.backward(); g.averageGradients(params); };
  }
  const med = timeSteps(() => step(sync), a.steps, 3);
  g?.barrier();
  process.stdout.write(JSON.stringify({ step_s: med }) + '\n');
  g?.destroy();
}

async function freePort(): Promise<number> {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); }); });
}

/** images/s of `nproc` fresh processes × 1 thread (slowest rank's median step). */
async function measure(model: Model, nproc: number, sync: Sync, a: BenchArgs): Promise<number> {
  const port = String(await freePort());
  const runs = Array.from({ length: nproc }, (_, rank) => new Promise<number>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1', CIVET_BENCH_DDP_WORKER: JSON.stringify({ ...a, model, sync }) };
    if (nproc > 1) Object.assign(env, { RANK: String(rank), WORLD_SIZE: String(nproc), LOCAL_RANK: String(rank), MASTER_ADDR: '127.0.0.1', MASTER_PORT: port });
    else { delete env.RANK; delete env.WORLD_SIZE; }
    const c = spawn(process.execPath, [__filename], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d) => (out += d)); c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!).step_s) : reject(new Error(`ddp-scaling worker ${rank}/${nproc} (${model}, ${sync}) exited ${code}: ${err.slice(-2000)}`))));
  }));
  const slowest = Math.max(...(await Promise.all(runs)));
  return (nproc * a.batch) / slowest;
}

export const ddpScaling = workload('ddp-scaling', 'images/s of 1 and 2 processes × 1 thread (gloo, Reducer and after-backward all-reduce) on resnet18-32 and civt-step; scaling efficiency', async (a) => {
  if (a.device !== 'cpu') throw new Error('ddp-scaling measures CPU processes over gloo (--device cpu)');
  const out: Record<string, number> = { batch_per_process: a.batch, threads_per_process: 1 };
  for (const model of ['resnet18-32', 'civt-step'] as Model[]) {
    const k = model.replace(/-/g, '_');
    let one = 0, two = 0, twoPlain = 0;
    for (let rep = 0; rep < 2; rep++) {
      one = Math.max(one, await measure(model, 1, 'reducer', a));
      two = Math.max(two, await measure(model, 2, 'reducer', a));
      twoPlain = Math.max(twoPlain, await measure(model, 2, 'allreduce', a));
    }
    out[`${k}_images_per_s_1x1`] = one;
    out[`${k}_images_per_s_2x1`] = two;
    out[`${k}_images_per_s_2x1_allreduce_after_backward`] = twoPlain;
    out[`${k}_efficiency`] = two / (2 * one);
    out[`${k}_efficiency_allreduce_after_backward`] = twoPlain / (2 * one);
  }
  return out;
});

if (process.env.CIVET_BENCH_DDP_WORKER && require.main === module) worker();
