// Index samplers. Every epoch's order is a pure function of (configuration, seed, epoch), so a
// run can be checkpointed as {epoch, position, seed} and resumed mid-epoch with the identical
// remaining order, with no RNG state to carry around. Random orders come from
// Rng.derive(seed, epoch), i.e. a fresh stream per epoch, rather than one stream advanced
// epoch after epoch (which would need every previous epoch replayed to resume).
import { Rng } from '../util/rng';

export interface SamplerState {
  kind: string;
  seed: number;
  epoch: number;
  /** How many of this epoch's indices have already been handed out. */
  position: number;
  /** Indices per epoch on this rank; checked on restore to catch a changed dataset size. */
  length: number;
  rank: number;
  worldSize: number;
}

export abstract class Sampler implements Iterable<number> {
  abstract readonly kind: string;
  /** Indices per epoch (on this rank). */
  abstract readonly length: number;
  readonly rank: number = 0;
  readonly worldSize: number = 1;
  protected _seed: number;
  private _epoch = 0;
  private _position = 0;
  private cache: { epoch: number; seed: number; order: Int32Array } | null = null;

  constructor(seed = 0) {
    checkInt('seed', seed, Number.MIN_SAFE_INTEGER);
    this._seed = seed;
  }

  /** The full index order for one epoch; must depend only on configuration, seed and epoch. */
  protected abstract order(epoch: number): Int32Array;

  get seed(): number {
    return this._seed;
  }
  get epoch(): number {
    return this._epoch;
  }
  get position(): number {
    return this._position;
  }
  get remaining(): number {
    return this.length - this._position;
  }

  /** The whole order of an epoch (default: the current one). Cached: do not mutate. */
  epochIndices(epoch = this._epoch): Int32Array {
    checkInt('epoch', epoch, 0);
    const c = this.cache;
    if (c && c.epoch === epoch && c.seed === this._seed) return c.order;
    const order = this.order(epoch);
    this.cache = { epoch, seed: this._seed, order };
    return order;
  }

  /** Start an epoch from its beginning (like torch's set_epoch, plus rewinding the position). */
  setEpoch(epoch: number): void {
    checkInt('epoch', epoch, 0);
    this._epoch = epoch;
    this._position = 0;
  }

  nextEpoch(): void {
    this.setEpoch(this._epoch + 1);
  }

  /** Up to n further indices of the current epoch (fewer at its end), advancing the position. */
  take(n: number): Int32Array {
    checkInt('n', n, 0);
    const order = this.epochIndices();
    const out = order.slice(this._position, Math.min(this._position + n, this.length));
    this._position += out.length;
    return out;
  }

  /** Yields the rest of the current epoch. The position advances as each index is yielded, so
   *  state() taken inside the loop resumes right after the last index handed out. */
  *[Symbol.iterator](): Iterator<number> {
    const order = this.epochIndices();
    while (this._position < this.length) yield order[this._position++];
  }

  state(): SamplerState {
    return {
      kind: this.kind,
      seed: this._seed,
      epoch: this._epoch,
      position: this._position,
      length: this.length,
      rank: this.rank,
      worldSize: this.worldSize,
    };
  }

  /** Continue from a saved state. The saved seed wins over the constructor's, since the point is
   *  to reproduce the interrupted run; anything that changes the order itself is an error. */
  restore(s: SamplerState): void {
    const where = `${this.kind}.restore`;
    if (!s || typeof s !== 'object') throw new TypeError(`${where}: expected a SamplerState object, got ${JSON.stringify(s)}`);
    if (s.kind !== this.kind) throw new Error(`${where}: state was saved by a ${s.kind}, not a ${this.kind}`);
    if (s.rank !== this.rank || s.worldSize !== this.worldSize) {
      throw new Error(`${where}: state is for rank ${s.rank} of ${s.worldSize}, this sampler is rank ${this.rank} of ${this.worldSize}`);
    }
    if (s.length !== this.length) {
      throw new Error(`${where}: state was saved with ${s.length} indices per epoch, this sampler has ${this.length} (dataset size or sampler options changed)`);
    }
    checkInt(`${where}: seed`, s.seed, Number.MIN_SAFE_INTEGER);
    checkInt(`${where}: epoch`, s.epoch, 0);
    checkInt(`${where}: position`, s.position, 0);
    if (s.position > this.length) throw new RangeError(`${where}: position ${s.position} is beyond the epoch length ${this.length}`);
    this._seed = s.seed;
    this._epoch = s.epoch;
    this._position = s.position;
  }
}

function checkInt(what: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`sampler: ${what} must be an integer >= ${min}, got ${v}`);
}

function arange(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** 0, 1, ..., n-1 every epoch. */
export class SequentialSampler extends Sampler {
  readonly kind = 'SequentialSampler';
  constructor(readonly length: number) {
    super(0);
    checkInt('length', length, 0);
  }
  protected order(): Int32Array {
    return arange(this.length);
  }
}

/** A fresh seeded permutation of 0..n-1 each epoch; every index exactly once per epoch. */
export class RandomSampler extends Sampler {
  readonly kind = 'RandomSampler';
  constructor(readonly length: number, seed = 0) {
    super(seed);
    checkInt('length', length, 0);
  }
  protected order(epoch: number): Int32Array {
    return Rng.derive(this._seed, epoch).permutation(this.length);
  }
}

export interface DistributedOptions {
  rank: number;
  worldSize: number;
  shuffle?: boolean;
  seed?: number;
  /** Drop the tail so shards are equal without padding (default false: pad by wrapping). */
  dropLast?: boolean;
}

function checkRank(where: string, rank: number, worldSize: number): void {
  checkInt(`${where} worldSize`, worldSize, 1);
  checkInt(`${where} rank`, rank, 0);
  if (rank >= worldSize) throw new RangeError(`${where}: rank ${rank} must be < worldSize ${worldSize}`);
}

/** Append the sequence's own prefix (cycling if needed) until it has `total` entries. */
function padTo(a: Int32Array, total: number): Int32Array {
  if (a.length >= total) return a.subarray(0, total);
  if (a.length === 0) throw new RangeError('sampler: cannot pad an empty index list');
  const out = new Int32Array(total);
  for (let i = 0; i < total; i++) out[i] = a[i % a.length];
  return out;
}

function stride(a: Int32Array, start: number, step: number, count: number): Int32Array {
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) out[k] = a[start + k * step];
  return out;
}

/** torch.utils.data.DistributedSampler: all ranks draw the same (seed, epoch) permutation,
 *  pad it by wrapping (or cut it, with dropLast) to a multiple of worldSize, and rank r takes
 *  positions r, r+worldSize, ... Without dropLast a few indices appear on two ranks. */
export class DistributedSampler extends Sampler {
  readonly kind = 'DistributedSampler';
  readonly length: number;
  override readonly rank: number;
  override readonly worldSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly totalSize: number;

  constructor(readonly datasetLength: number, opts: DistributedOptions) {
    super(opts.seed ?? 0);
    checkInt('datasetLength', datasetLength, 0);
    checkRank('DistributedSampler', opts.rank, opts.worldSize);
    this.rank = opts.rank;
    this.worldSize = opts.worldSize;
    this.shuffle = opts.shuffle ?? true;
    this.dropLast = opts.dropLast ?? false;
    const n = datasetLength, w = opts.worldSize;
    // max(0, ...) because torch's formula goes negative (-0 here) when n < worldSize with dropLast.
    this.length = Math.max(0, this.dropLast && n % w !== 0 ? Math.ceil((n - w) / w) : Math.ceil(n / w));
    this.totalSize = this.length * w;
  }

  protected order(epoch: number): Int32Array {
    const n = this.datasetLength;
    const base = this.shuffle ? Rng.derive(this._seed, epoch).permutation(n) : arange(n);
    const all = this.totalSize === 0 ? base.subarray(0, 0) : padTo(base, this.totalSize);
    return stride(all, this.rank, this.worldSize, this.length);
  }
}

export interface RAOptions {
  rank?: number;
  worldSize?: number;
  /** Copies of each index per epoch (DeiT default 3), each destined for a different rank. */
  numRepeats?: number;
  shuffle?: boolean;
  seed?: number;
  /** DeiT truncates each epoch to floor(n / 256) * 256 / worldSize indices per rank, so one epoch
   *  sees about as many samples as without repetition. Set 1 to truncate to floor(n / worldSize). */
  roundTo?: number;
}

/** DeiT's RASampler (repeated augmentation, facebookresearch/deit samplers.py): permute, repeat
 *  every index numRepeats times in a row, pad by wrapping to a multiple of worldSize, deal out
 *  round-robin (so consecutive copies land on different ranks), then keep only the first
 *  floor(n/roundTo)*roundTo/worldSize of each rank's share. */
export class RASampler extends Sampler {
  readonly kind = 'RASampler';
  readonly length: number;
  override readonly rank: number;
  override readonly worldSize: number;
  readonly numRepeats: number;
  readonly shuffle: boolean;
  /** Per-rank share before truncation (DeiT's num_samples). */
  readonly numSamples: number;
  readonly totalSize: number;

  constructor(readonly datasetLength: number, opts: RAOptions = {}) {
    super(opts.seed ?? 0);
    const rank = opts.rank ?? 0, w = opts.worldSize ?? 1, r = opts.numRepeats ?? 3, roundTo = opts.roundTo ?? 256;
    checkInt('datasetLength', datasetLength, 1);
    checkRank('RASampler', rank, w);
    checkInt('numRepeats', r, 1);
    checkInt('roundTo', roundTo, 1);
    this.rank = rank;
    this.worldSize = w;
    this.numRepeats = r;
    this.shuffle = opts.shuffle ?? true;
    this.numSamples = Math.ceil((datasetLength * r) / w);
    this.totalSize = this.numSamples * w;
    this.length = Math.floor((Math.floor(datasetLength / roundTo) * roundTo) / w);
    if (this.length === 0) {
      // DeiT would silently yield empty epochs here.
      throw new RangeError(
        `RASampler: ${datasetLength} samples rounded down to a multiple of roundTo=${roundTo} and split over ${w} ranks leaves 0 per epoch; lower roundTo`,
      );
    }
  }

  protected order(epoch: number): Int32Array {
    const n = this.datasetLength, r = this.numRepeats;
    const base = this.shuffle ? Rng.derive(this._seed, epoch).permutation(n) : arange(n);
    const repeated = new Int32Array(n * r);
    for (let i = 0; i < n; i++) repeated.fill(base[i], i * r, (i + 1) * r);
    const all = padTo(repeated, this.totalSize);
    return stride(all, this.rank, this.worldSize, this.numSamples).subarray(0, this.length);
  }
}

/** Groups a sampler's indices into batches. State lives in the wrapped sampler, so
 *  sampler.state()/restore() checkpoint the batch position too. */
export class BatchSampler implements Iterable<Int32Array> {
  constructor(readonly sampler: Sampler, readonly batchSize: number, readonly dropLast = false) {
    checkInt('batchSize', batchSize, 1);
  }

  /** Batches per full epoch. */
  get length(): number {
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The next batch of the current epoch, or null when the epoch is done (with dropLast, a
   *  short tail counts as done and is not consumed). */
  nextBatch(): Int32Array | null {
    const rem = this.sampler.remaining;
    if (rem === 0 || (this.dropLast && rem < this.batchSize)) return null;
    return this.sampler.take(this.batchSize);
  }

  *[Symbol.iterator](): Iterator<Int32Array> {
    for (let b = this.nextBatch(); b !== null; b = this.nextBatch()) yield b;
  }

  state(): SamplerState {
    return this.sampler.state();
  }

  restore(s: SamplerState): void {
    this.sampler.restore(s);
  }
}
