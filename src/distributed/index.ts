// Process groups over libtorch's c10d (native/src/dist.cc): a TCPStore rendezvous served by rank 0,
// then a gloo (CPU) or NCCL (CUDA builds only) group. Configured from the environment variables
// torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so a cluster scheduler or
// a launcher can start the workers. Every collective blocks with the group's timeout and throws
// (never hangs forever) when a peer dies or stalls.
import { Tensor, fromTypedArray } from '../tensor';
import { native } from '../tensor/native';

type Ext = { readonly __civetDist: unique symbol };
interface DistAddon {
  distStore(host: string, port: number, isServer: boolean, worldSize: number, timeoutMs: number): Ext;
  distStoreSet(s: Ext, key: string, value: string): void;
  distStoreGet(s: Ext, key: string): string;
  distGroup(s: Ext, rank: number, size: number, backend: string, timeoutMs: number, prefix: string, hostname: string | null): Ext;
  distHasNccl(): boolean;
  distDestroy(g: Ext): void;
  distBroadcast(g: Ext, ts: unknown[], root: number): void;
  distAllReduce(g: Ext, ts: unknown[], op: string): void;
  distAllGather(g: Ext, t: unknown): unknown[];
  distBarrier(g: Ext): void;
  distAverageGrads(g: Ext, params: unknown[], bucketBytes: number): number;
  distReducer(g: Ext, params: unknown[], bucketBytes: number, findUnused: boolean): Ext;
  distReducerPrepareForward(r: Ext): boolean;
  distReducerPrepareBackward(r: Ext, outputs: unknown[]): void;
  distReducerBuckets(r: Ext): number;
  distReducerDestroy(r: Ext): void;
}
// the distributed exports live beside the tensor ones in the one addon; typed here so the tensor
// room's interface stays as it is
const addon = native as unknown as DistAddon;

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'max' | 'min' | 'product';

export interface GroupOptions {
  rank: number;
  worldSize: number;
  masterAddr?: string;
  masterPort?: number;
  backend?: Backend;
  /** for the rendezvous and every collective; default 60 s */
  timeoutMs?: number;
}

const h = (t: Tensor) => (t as unknown as { handle: unknown }).handle;

/** One c10d process group (and the store it met at). */
export class ProcessGroup {
  private constructor(readonly rank: number, readonly worldSize: number, readonly backend: Backend, readonly timeoutMs: number, private store: Ext, private g: Ext | null) {}

  static create(o: GroupOptions): ProcessGroup {
    const backend = o.backend ?? 'gloo', timeout = o.timeoutMs ?? 60_000;
    const addr = o.masterAddr ?? '127.0.0.1', port = o.masterPort ?? 29500;
    if (!Number.isInteger(o.worldSize) || o.worldSize < 1) throw new RangeError(`distributed: worldSize must be an integer >= 1, got ${o.worldSize}`);
    if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize) throw new RangeError(`distributed: rank ${o.rank} is not in 0..${o.worldSize - 1}`);
    if (backend === 'nccl' && !addon.distHasNccl()) throw new Error("distributed: backend 'nccl' needs a civet build against a CUDA libtorch with NCCL (LIBTORCH=...)");
    const store = addon.distStore(addr, port, o.rank === 0, o.worldSize, timeout);
    const local = addr === '127.0.0.1' || addr === 'localhost';
    const g = addon.distGroup(store, o.rank, o.worldSize, backend, timeout, 'civet/0/', local ? '127.0.0.1' : null);
    return new ProcessGroup(o.rank, o.worldSize, backend, timeout, store, g);
  }

  /** The group torchrun's variables describe (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), or null without them. */
  static fromEnv(o: { backend?: Backend; timeoutMs?: number } = {}, env: NodeJS.ProcessEnv = process.env): ProcessGroup | null {
    const e = envRank(env);
    return e ? ProcessGroup.create({ ...e, ...o }) : null;
  }

  private get group(): Ext {
    if (!this.g) throw new Error('distributed: process group used after destroy()');
    return this.g;
  }
  /** Runs a collective; libtorch's bare failure ('Operation timed out!', 'Connection closed by
   *  peer') is rethrown naming the operation, this rank and the likely cause. */
  private op<T>(what: string, f: () => T, peerHint = true): T {
    try { return f(); } catch (e: any) {
      const hint = peerHint ? ` (a peer died, stalled or left; timeout ${this.timeoutMs} ms)` : '';
      throw new Error(`distributed: ${what} on rank ${this.rank} of ${this.worldSize} failed${hint}: ${String(e?.message ?? e).split('\n')[0]}`);
    }
  }
  broadcast(ts: Tensor[], root = 0): void { this.op('broadcast', () => addon.distBroadcast(this.group, ts.map(h), root)); }
  allReduce(ts: Tensor[], op: ReduceOp = 'sum'): void { this.op('allReduce', () => addon.distAllReduce(this.group, ts.map(h), op)); }
  allGather(t: Tensor): Tensor[] {
    return this.op('allGather', () => addon.distAllGather(this.group, h(t))).map((x) => new Tensor(x as never));
  }
  barrier(): void { this.op('barrier', () => addon.distBarrier(this.group)); }
  /** Sums numbers across ranks (metrics). */
  sumNumbers(xs: number[]): number[] {
    const t = fromTypedArray(Float64Array.from(xs));
    try { this.allReduce([t]); return Array.from(t.toTypedArray() as Float64Array); } finally { t.dispose(); }
  }
  /** Averages the parameters' gradients across ranks after backward, in buckets of bucketBytes. */
  averageGradients(params: Tensor[], bucketBytes = 25 << 20): number { return this.op('averageGradients', () => addon.distAverageGrads(this.group, params.map(h), bucketBytes)); }
  /** c10d::Reducer (DDP's core) over these parameters: gradients averaged in buckets during backward. */
  reducer(params: Tensor[], o: { bucketBytes?: number; findUnused?: boolean } = {}): Reducer {
    return this.op('reducer', () => new Reducer(this, addon.distReducer(this.group, params.map(h), o.bucketBytes ?? 25 << 20, o.findUnused ?? false)));
  }
  /** @internal runs f, rethrowing a failure as a collective's failure on this rank */
  wrap<T>(what: string, f: () => T, peerHint = true): T { return this.op(what, f, peerHint); }
  /** Store key/value (rendezvous-level messages). */
  set(key: string, value: string): void { addon.distStoreSet(this.store, key, value); }
  get(key: string): string { return addon.distStoreGet(this.store, key); }
  destroy(): void { if (this.g) addon.distDestroy(this.g); this.g = null; }
}

/**
 * libtorch's c10d::Reducer, wired as torch.nn.parallel.DistributedDataParallel wires it
 * (native/src/dist.cc): its hooks on the parameters' gradient accumulators copy each gradient into
 * a bucket as autograd produces it and start the bucket's all-reduce as soon as the bucket is full,
 * so communication overlaps the rest of backward; when backward returns, every gradient is the
 * average over ranks. Per synchronised step: prepareForward() before the forward, then
 * prepareForBackward(loss) before loss.backward(). A backward without prepareForBackward is local
 * (DDP's no_sync: the first micro-batches of gradient accumulation). Every parameter must get a
 * gradient in each synchronised backward unless findUnused is set (as in DDP).
 */
export class Reducer {
  private r: Ext | null;
  constructor(private readonly group: ProcessGroup, r: Ext) { this.r = r; }
  private get handle(): Ext { if (!this.r) throw new Error('distributed: reducer used after destroy()'); return this.r; }
  get buckets(): number { return addon.distReducerBuckets(this.handle); }
  /** true when this call rebuilt the buckets (once, after the first synchronised backward) */
  prepareForward(): boolean { return this.group.wrap('reducer.prepareForward', () => addon.distReducerPrepareForward(this.handle)); }
  prepareForBackward(outputs: Tensor[]): void { this.group.wrap('reducer.prepareForBackward', () => addon.distReducerPrepareBackward(this.handle, outputs.map(h)), false); }
  /** backward with the reducer armed: a failed bucket all-reduce (peer gone, timeout) surfaces here */
  backward(loss: Tensor): void {
    this.prepareForBackward([loss]);
    this.group.wrap('reducer backward (bucket all-reduce)', () => loss.backward());
  }
  destroy(): void { if (this.r) addon.distReducerDestroy(this.r); this.r = null; }
}

export function hasNccl(): boolean { return addon.distHasNccl(); }

/** torchrun's variables, checked; null when RANK/WORLD_SIZE are absent. */
export function envRank(env: NodeJS.ProcessEnv = process.env): { rank: number; worldSize: number; localRank: number; masterAddr: string; masterPort: number } | null {
  if (env.RANK === undefined && env.WORLD_SIZE === undefined) return null;
  const num = (k: string, d?: number) => {
    const v = env[k];
    if (v === undefined) { if (d !== undefined) return d; throw new Error(`distributed: ${k} is not set (RANK and WORLD_SIZE go together)`); }
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`distributed: ${k}=${v} is not a non-negative integer`);
    return n;
  };
  return { rank: num('RANK'), worldSize: num('WORLD_SIZE'), localRank: num('LOCAL_RANK', 0), masterAddr: env.MASTER_ADDR ?? '127.0.0.1', masterPort: num('MASTER_PORT', 29500) };
}
