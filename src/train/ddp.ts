// Data-parallel training for the one trainer (train/trainer.ts), on libtorch's c10d
// (distributed/). Each worker process is one rank; the launcher (cli/launch.ts) or a cluster
// scheduler starts them with torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT). What happens, following torch.nn.parallel.DistributedDataParallel (v1.13):
//  - the config's batchSize is the GLOBAL batch: each rank takes batchSize / worldSize samples
//    per micro-batch through a DistributedSampler over the same (seed, epoch) permutation the
//    single-process RandomSampler draws, so a global batch holds exactly the samples one process
//    would have used (augmentation seeds are per rank, so only un-augmented runs match bit for
//    bit); the sampler's state resumes exactly;
//  - parameters and buffers are broadcast from rank 0 before the first step (DDP's
//    _sync_module_states), so every replica starts from rank 0's weights;
//  - gradients are averaged by c10d::Reducer (gradSync 'reducer', the default: buckets
//    all-reduced while backward still runs) or, for comparison, by one bucketed all-reduce after
//    backward ('allreduce'); only the backward that completes an accumulation window is
//    synchronised (DDP's no_sync for the others);
//  - batch norm is LOCAL: each rank normalises with its own micro-batch's statistics, and the
//    student's buffers (running statistics) are broadcast from rank 0 before each synchronised
//    forward and before evaluation and checkpoints (DDP's broadcast_buffers=True), so replicas
//    never drift apart. SyncBN is not implemented;
//  - teachers are replicated: every rank builds and runs its own frozen copy, nothing is
//    communicated for them;
//  - the loss terms are averaged over ranks (what is logged, and the non-finite checks, so every
//    rank skips the same steps); evaluation runs on every rank over the whole evaluation set with
//    identical weights and buffers, so every rank takes the same best-checkpoint decisions;
//  - only rank 0 writes: checkpoints (after a barrier, so only once every rank finished the
//    step), metrics, TensorBoard, summary.json and the report;
//  - state a method keeps across samples is per rank: CRD's memory bank and contrast indices see
//    the samples of that rank (every rank updates its own copy; checkpoints hold rank 0's), KDCL's
//    peers are ensembled within a rank's micro-batch. Nothing of it is gathered.
import type { Tensor } from '../tensor';
import { noGrad, fromTypedArray } from '../tensor';
import { ProcessGroup, Reducer, envRank, type Backend } from '../distributed';
import type { Distiller } from '../distill/distiller';

export type GradSync = 'reducer' | 'allreduce';
export interface RunShare { dir: string; resume: boolean; restart: boolean }

/** What the Stepper (train/fit.ts) asks of a gradient synchroniser. */
export interface StepSync {
  /** before the forward of a micro-batch; `syncing`: its backward completes the accumulation window */
  beforeForward(syncing: boolean): void;
  /** runs the backward of `loss`, averaging the gradients over ranks when `syncing` */
  backward(loss: Tensor, syncing: boolean): void;
  /** the values averaged over ranks */
  reduce(vals: number[]): number[];
}

export interface DataParallelOptions {
  backend?: Backend;
  /** rendezvous and every collective; a dead or hung peer fails the group after this long */
  timeoutMs?: number;
  gradSync?: GradSync;
  bucketBytes?: number;
}

/** Defaults, overridable by the launcher through the environment. */
export function dataParallelOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DataParallelOptions {
  const o: DataParallelOptions = {};
  if (env.CIVET_DIST_TIMEOUT_MS) {
    const ms = Number(env.CIVET_DIST_TIMEOUT_MS);
    if (!Number.isInteger(ms) || ms <= 0) throw new Error(`distributed: CIVET_DIST_TIMEOUT_MS=${env.CIVET_DIST_TIMEOUT_MS} is not a positive integer`);
    o.timeoutMs = ms;
  }
  if (env.CIVET_DDP_GRAD_SYNC) {
    if (env.CIVET_DDP_GRAD_SYNC !== 'reducer' && env.CIVET_DDP_GRAD_SYNC !== 'allreduce') throw new Error(`distributed: CIVET_DDP_GRAD_SYNC=${env.CIVET_DDP_GRAD_SYNC}: expected reducer or allreduce`);
    o.gradSync = env.CIVET_DDP_GRAD_SYNC;
  }
  if (env.CIVET_DIST_BACKEND) {
    if (env.CIVET_DIST_BACKEND !== 'gloo' && env.CIVET_DIST_BACKEND !== 'nccl') throw new Error(`distributed: CIVET_DIST_BACKEND=${env.CIVET_DIST_BACKEND}: expected gloo or nccl`);
    o.backend = env.CIVET_DIST_BACKEND;
  }
  return o;
}

export class DataParallel {
  private reducer: Reducer | null = null;
  private params: Tensor[] = [];
  private studentBuffers: Tensor[] = [];
  readonly gradSync: GradSync;
  readonly bucketBytes: number;

  constructor(readonly group: ProcessGroup, readonly localRank: number, o: DataParallelOptions = {}) {
    this.gradSync = o.gradSync ?? 'reducer';
    this.bucketBytes = o.bucketBytes ?? 25 << 20;   // DDP's default bucket_cap_mb=25
  }

  /** The group torchrun's variables describe, or null outside a distributed launch (WORLD_SIZE
   *  unset). NCCL for CUDA runs, gloo otherwise, unless CIVET_DIST_BACKEND says. */
  static fromEnv(device: string, env: NodeJS.ProcessEnv = process.env): DataParallel | null {
    const e = envRank(env);
    if (!e) return null;
    const o = dataParallelOptionsFromEnv(env);
    const backend = o.backend ?? (device.startsWith('cuda') ? 'nccl' : 'gloo');
    const g = ProcessGroup.create({ ...e, backend, timeoutMs: o.timeoutMs ?? 300_000 });
    return new DataParallel(g, e.localRank, o);
  }

  get rank(): number { return this.group.rank; }
  get worldSize(): number { return this.group.worldSize; }
  get isMain(): boolean { return this.group.rank === 0; }

  /** Rank 0 publishes the run directory it claimed or locked and whether it resumes it (and with
   *  --restart); the others receive that, whatever their own arguments said (on other nodes a
   *  restarted launcher may not know the run). A rank-0 failure before training is received as an
   *  error naming it, rather than as a timeout. */
  shareRun(run: RunShare | null): RunShare {
    if (this.isMain) { this.group.set('civet/run', JSON.stringify(run)); return run!; }
    const got = JSON.parse(this.group.get('civet/run')) as RunShare | { failed: string };
    if ('failed' in got) throw new Error(`rank ${this.rank}: rank 0 stopped before training: ${got.failed}`);
    return got;
  }

  /** Publishes a rank-0 failure (bad config, locked run) to ranks still waiting in shareRun. */
  shareFailure(message: string): void {
    if (this.isMain && !this.shared) this.group.set('civet/run', JSON.stringify({ failed: message }));
  }
  private shared = false;
  markShared(): void { this.shared = true; }

  /** The per-rank micro-batch of a global batch; throws when it does not divide. */
  localBatch(globalBatch: number): number {
    if (globalBatch % this.worldSize !== 0) throw new Error(`batchSize ${globalBatch} is the global batch and must divide by the ${this.worldSize} ranks`);
    return globalBatch / this.worldSize;
  }

  /** Broadcasts parameters and buffers from rank 0 (teachers are not the distiller's modules and
   *  stay as each rank loaded them) and sets up the gradient synchroniser over the trainable ones. */
  attach(d: Distiller): void {
    const all = [...d.namedParameters()].map(([, p]) => p);
    const bufs = [...d.namedBuffers()].map(([, b]) => b);
    noGrad(() => this.group.broadcast([...all, ...bufs], 0));
    this.params = all.filter((p) => p.requiresGrad);
    this.studentBuffers = [...d.student.namedBuffers()].map(([, b]) => b);
    if (this.gradSync === 'reducer') this.reducer = this.group.reducer(this.params, { bucketBytes: this.bucketBytes });
  }

  /** The student's buffers from rank 0 (DDP's broadcast_buffers). */
  syncBuffers(): void {
    if (this.studentBuffers.length) noGrad(() => this.group.broadcast(this.studentBuffers, 0));
  }

  readonly sync: StepSync = {
    beforeForward: (syncing) => {
      if (!syncing) return;
      this.syncBuffers();
      this.reducer?.prepareForward();
    },
    backward: (loss, syncing) => {
      if (!syncing) { loss.backward(); return; }
      if (this.reducer) { this.reducer.backward(loss); return; }
      loss.backward();
      this.group.averageGradients(this.params, this.bucketBytes);
    },
    reduce: (vals) => this.group.sumNumbers(vals).map((v) => v / this.worldSize),
  };

  barrier(): void { this.group.barrier(); }

  /** Rank 0's values on every rank: decisions taken from evaluation (best checkpoint) must be
   *  the same everywhere, even where another rank's arithmetic differs in the last bit. */
  fromMain(xs: number[]): number[] {
    const t = fromTypedArray(Float64Array.from(xs));
    try { this.group.broadcast([t], 0); return Array.from(t.toTypedArray() as Float64Array); } finally { t.dispose(); }
  }

  destroy(): void {
    this.reducer?.destroy();
    this.reducer = null;
    this.group.destroy();
  }
}
