// Learning-rate schedules as PURE functions of the step: lr = schedule.lrAt(t). Nothing is stored,
// so resuming needs only the epoch / iteration counter.
//
// `t` counts in the schedule's unit, `per`: 'iteration' (optimizer updates) or 'epoch'. The value for
// t is the lr used by the t-th update / epoch, counting from 0: call applyTo(optimizer, t) BEFORE that
// update (or at the start of that epoch). This matches timm, whose schedulers are set to _get_lr(0) at
// construction and then to _get_lr(n) by step_update(num_updates = n) after the n-th update (or by
// step(epoch + 1) at the end of an epoch).
//
// Warm-up (every schedule here, timm semantics): for t < warmupT,
//     lr(t) = warmupLrInit + t · (baseLr − warmupLrInit) / warmupT
// i.e. warmupLrInit at t = 0, rising linearly; baseLr itself is never reached inside the warm-up (the last
// warm-up value is baseLr − (baseLr − warmupLrInit)/warmupT). For t >= warmupT the main schedule is
// evaluated at t (warmupPrefix false: the warm-up overlaps the first warmupT steps of the main schedule)
// or at t − warmupT (warmupPrefix true: the main schedule starts after the warm-up).
// Defaults as timm: warmupPrefix false for cosine, true for step and multistep.
//
// Per-group scale: applyTo sets each group's lr to lrAt(t) · (group.lrScale ?? 1) (timm's lr_scale).

export type SchedulePer = 'iteration' | 'epoch';

/** Where training is: the epoch (from 0) and the number of optimizer updates done so far. */
export interface Progress { epoch: number; iteration: number }

export interface WarmupOptions {
  /** warm-up length in `per` units (0: none) */
  warmupT?: number;
  /** lr at t = 0 of the warm-up */
  warmupLrInit?: number;
  /** main schedule starts after the warm-up (t shifted by warmupT) instead of under it */
  warmupPrefix?: boolean;
}

export interface ScheduleCommon extends WarmupOptions {
  /** the unit of t; default 'iteration' */
  per?: SchedulePer;
}

/** Anything with parameter groups whose lr can be set (civet's optimizers). */
export interface HasParamGroups { paramGroups: { lr: number; lrScale?: number }[] }

export abstract class LRSchedule {
  readonly per: SchedulePer;
  readonly warmupT: number;
  readonly warmupLrInit: number;
  readonly warmupPrefix: boolean;

  protected constructor(readonly baseLr: number, o: ScheduleCommon, warmupPrefixDefault: boolean) {
    if (!(Number.isFinite(baseLr) && baseLr >= 0)) throw new RangeError(`learning-rate schedule: base lr must be a finite number >= 0, got ${baseLr}`);
    this.per = o.per ?? 'iteration';
    if (this.per !== 'iteration' && this.per !== 'epoch') throw new RangeError(`learning-rate schedule: per must be 'iteration' or 'epoch', got '${this.per}'`);
    this.warmupT = o.warmupT ?? 0;
    this.warmupLrInit = o.warmupLrInit ?? 0;
    this.warmupPrefix = o.warmupPrefix ?? warmupPrefixDefault;
    if (!(this.warmupT >= 0)) throw new RangeError(`learning-rate schedule: warmupT must be >= 0, got ${this.warmupT}`);
  }

  /** The main schedule (after warm-up) at t (already shifted when warmupPrefix). */
  protected abstract main(t: number): number;

  /** The learning rate at t (in `per` units, t >= 0). */
  lrAt(t: number): number {
    if (!(t >= 0)) throw new RangeError(`learning-rate schedule: t must be >= 0, got ${t}`);
    if (t < this.warmupT) return this.warmupLrInit + t * ((this.baseLr - this.warmupLrInit) / this.warmupT);
    return this.main(this.warmupPrefix ? t - this.warmupT : t);
  }

  /** t for a point of training: the epoch when per = 'epoch', else the iteration. */
  tOf(at: number | Progress): number {
    return typeof at === 'number' ? at : this.per === 'epoch' ? at.epoch : at.iteration;
  }

  /** Sets every group's lr to lrAt(t) · lrScale and returns lrAt(t). */
  applyTo(optimizer: HasParamGroups, at: number | Progress): number {
    const lr = this.lrAt(this.tOf(at));
    for (const g of optimizer.paramGroups) g.lr = lr * (g.lrScale ?? 1);
    return lr;
  }

  /** lrAt(0), …, lrAt(n − 1) (for plots and reports). */
  values(n: number): number[] { return Array.from({ length: n }, (_, t) => this.lrAt(t)); }
}

export interface CosineOptions extends ScheduleCommon {
  /** length of the (first) cosine cycle in `per` units (timm t_initial) */
  tInitial: number;
  /** floor (timm lr_min); default 0 */
  lrMin?: number;
  /** cycle length multiplier (timm cycle_mul); default 1 */
  cycleMul?: number;
  /** peak multiplier per cycle (timm cycle_decay); default 1 */
  cycleDecay?: number;
  /** number of cycles; after them lr stays at lrMin (timm cycle_limit); default 1 */
  cycleLimit?: number;
  /** k-decay exponent (timm k_decay); default 1 */
  kDecay?: number;
}

/**
 * timm's CosineLRScheduler (_get_lr, without noise). After warm-up, with t as above, cycle i, its length
 * T_i and the position t_c in it (cycleMul = 1: i = ⌊t / tInitial⌋, T_i = tInitial, t_c = t − i·tInitial):
 *     lr = lrMin + ½ (baseLr·cycleDecay^i − lrMin) (1 + cos(π t_c^k / T_i^k))   while i < cycleLimit
 *     lr = lrMin                                                                 afterwards
 * So with the defaults lr(0) = baseLr (no warm-up), lr(tInitial/2) = (baseLr + lrMin)/2, and lr = lrMin from
 * t = tInitial on. With a warm-up and warmupPrefix false (timm's default), lr(warmupT) is the cosine
 * value at warmupT (slightly below baseLr), and the decay still ends at tInitial: the total length is tInitial.
 */
export class CosineSchedule extends LRSchedule {
  readonly tInitial: number;
  readonly lrMin: number;
  readonly cycleMul: number;
  readonly cycleDecay: number;
  readonly cycleLimit: number;
  readonly kDecay: number;
  constructor(baseLr: number, o: CosineOptions) {
    super(baseLr, o, false);
    this.tInitial = o.tInitial;
    this.lrMin = o.lrMin ?? 0;
    this.cycleMul = o.cycleMul ?? 1;
    this.cycleDecay = o.cycleDecay ?? 1;
    this.cycleLimit = o.cycleLimit ?? 1;
    this.kDecay = o.kDecay ?? 1;
    if (!(this.tInitial > 0)) throw new RangeError(`CosineSchedule: tInitial must be > 0, got ${o.tInitial}`);
    if (!(this.lrMin >= 0)) throw new RangeError(`CosineSchedule: lrMin must be >= 0, got ${this.lrMin}`);
    if (!(this.cycleMul > 0)) throw new RangeError(`CosineSchedule: cycleMul must be > 0, got ${this.cycleMul}`);
  }
  protected main(t: number): number {
    let i: number, ti: number, tc: number;
    if (this.cycleMul !== 1) {
      const m = this.cycleMul;
      i = Math.floor(Math.log(1 - (t / this.tInitial) * (1 - m)) / Math.log(m));
      ti = m ** i * this.tInitial;
      tc = t - ((1 - m ** i) / (1 - m)) * this.tInitial;
    } else {
      i = Math.floor(t / this.tInitial);
      ti = this.tInitial;
      tc = t - this.tInitial * i;
    }
    if (i >= this.cycleLimit) return this.lrMin;
    const lrMax = this.baseLr * this.cycleDecay ** i;
    const k = this.kDecay;
    return this.lrMin + 0.5 * (lrMax - this.lrMin) * (1 + Math.cos((Math.PI * tc ** k) / ti ** k));
  }
  /** Length of the first `cycles` cycles (timm get_cycle_length), default all cycleLimit of them. */
  cycleLength(cycles = 0): number {
    const c = Math.max(1, cycles || this.cycleLimit);
    if (this.cycleMul === 1) return this.tInitial * c;
    return Math.floor((-this.tInitial * (this.cycleMul ** c - 1)) / (1 - this.cycleMul));
  }
}

export interface StepOptions extends ScheduleCommon {
  /** decay every stepSize units (torch StepLR step_size, timm decay_t) */
  stepSize: number;
  /** factor per decay (torch gamma, timm decay_rate); default 0.1 */
  gamma?: number;
}

/** torch StepLR / timm StepLRScheduler: lr = baseLr · gamma^⌊t / stepSize⌋ (after warm-up). */
export class StepSchedule extends LRSchedule {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(baseLr: number, o: StepOptions) {
    super(baseLr, o, true);
    this.stepSize = o.stepSize;
    this.gamma = o.gamma ?? 0.1;
    if (!(this.stepSize > 0)) throw new RangeError(`StepSchedule: stepSize must be > 0, got ${o.stepSize}`);
  }
  protected main(t: number): number { return this.baseLr * this.gamma ** Math.floor(t / this.stepSize); }
}

export interface MultiStepOptions extends ScheduleCommon {
  /** the t at which lr is multiplied by gamma (a milestone listed twice decays twice, as torch) */
  milestones: number[];
  gamma?: number;
}

/**
 * torch MultiStepLR / timm MultiStepLRScheduler: lr = baseLr · gamma^(number of milestones <= t)
 * (after warm-up), so the decayed value applies from the milestone itself on.
 */
export class MultiStepSchedule extends LRSchedule {
  readonly milestones: number[];
  readonly gamma: number;
  constructor(baseLr: number, o: MultiStepOptions) {
    super(baseLr, o, true);
    this.milestones = [...o.milestones].sort((a, b) => a - b);
    this.gamma = o.gamma ?? 0.1;
  }
  protected main(t: number): number {
    let n = 0;
    for (const m of this.milestones) if (m <= t) n++;
    return this.baseLr * this.gamma ** n;
  }
}

/** Constant baseLr (after an optional warm-up). */
export class ConstantSchedule extends LRSchedule {
  constructor(baseLr: number, o: ScheduleCommon = {}) { super(baseLr, o, true); }
  protected main(): number { return this.baseLr; }
}

/** A schedule described in EPOCHS (as in a config file), with the unit it is stepped in. */
export type ScheduleConfig =
  | ({ name: 'cosine'; epochs: number; lrMin?: number; cycleMul?: number; cycleDecay?: number; cycleLimit?: number; kDecay?: number } & EpochCommon)
  | ({ name: 'step'; decayEpochs: number; gamma?: number } & EpochCommon)
  | ({ name: 'multistep'; milestones: number[]; gamma?: number } & EpochCommon)
  | ({ name: 'constant' } & EpochCommon);

interface EpochCommon {
  lr: number;
  warmupEpochs?: number;
  warmupLr?: number;
  warmupPrefix?: boolean;
  /** 'epoch': lr changes once per epoch; 'iteration' (default): every update, lengths scaled by itersPerEpoch */
  per?: SchedulePer;
  /** needed when per = 'iteration' */
  itersPerEpoch?: number;
}

/**
 * Builds a schedule from epoch counts, as timm's create_scheduler_v2: stepped per epoch, lengths stay in
 * epochs; stepped per iteration, every length (epochs, warm-up, decay epochs, milestones) is multiplied by
 * itersPerEpoch.
 */
export function createSchedule(c: ScheduleConfig): LRSchedule {
  if (!['cosine', 'step', 'multistep', 'constant'].includes(c.name)) {
    throw new RangeError(`createSchedule: unknown schedule '${(c as { name: string }).name}' (cosine, step, multistep, constant)`);
  }
  const per = c.per ?? 'iteration';
  let k = 1;
  if (per === 'iteration') {
    if (!(c.itersPerEpoch !== undefined && Number.isInteger(c.itersPerEpoch) && c.itersPerEpoch > 0)) {
      throw new RangeError(`createSchedule: itersPerEpoch (a positive integer) is needed to step '${c.name}' per iteration`);
    }
    k = c.itersPerEpoch;
  }
  const common: ScheduleCommon = { per, warmupT: (c.warmupEpochs ?? 0) * k, warmupLrInit: c.warmupLr ?? 0, warmupPrefix: c.warmupPrefix };
  switch (c.name) {
    case 'cosine':
      return new CosineSchedule(c.lr, { ...common, tInitial: c.epochs * k, lrMin: c.lrMin, cycleMul: c.cycleMul, cycleDecay: c.cycleDecay, cycleLimit: c.cycleLimit, kDecay: c.kDecay });
    case 'step':
      return new StepSchedule(c.lr, { ...common, stepSize: c.decayEpochs * k, gamma: c.gamma });
    case 'multistep':
      return new MultiStepSchedule(c.lr, { ...common, milestones: c.milestones.map((m) => m * k), gamma: c.gamma });
    case 'constant':
      return new ConstantSchedule(c.lr, common);
    default:
      throw new RangeError(`createSchedule: unknown schedule '${(c as { name: string }).name}' (cosine, step, multistep, constant)`);
  }
}
