// Model EMA (timm ModelEmaV2, with ModelEmaV3's optional decay warm-up): an exponential moving average of
// a model's parameters and buffers, held as the EMA's own tensors and matched BY NAME.
//
//   ema ← decay · ema + (1 − decay) · value       for floating-point parameters, and floating-point
//                                                  persistent buffers (BatchNorm running stats) as V2
//   ema ← value                                    for integer buffers (num_batches_tracked), and for all
//                                                  buffers with excludeBuffers (V3's exclude_buffers)
//
// The update runs in place as ema.mul_(decay).add_(value, 1 − decay).
import { Tensor, tidy, noGrad } from '../tensor';
import type { DType } from '../tensor';

/** What ModelEma reads: civet's Module. */
export interface EmaSource {
  namedParameters(): Iterable<[string, Tensor]>;
  namedBuffers(prefix?: string, persistentOnly?: boolean): Iterable<[string, Tensor]>;
}

export interface ModelEmaOptions {
  /** decay (timm default 0.9999) */
  decay?: number;
  /** copy buffers instead of averaging them (timm V3 exclude_buffers); default false (V2: average floating buffers) */
  excludeBuffers?: boolean;
  /** hold the EMA on this device (e.g. 'cpu' to save accelerator memory); default: where the model's tensors are */
  device?: string;
  /** decay warm-up (timm V3 use_warmup): decay(step) = clamp(1 − (1 + s/warmupGamma)^−warmupPower, minDecay, decay) */
  warmup?: boolean;
  warmupGamma?: number;
  warmupPower?: number;
  minDecay?: number;
  /** updates before this step copy the model (decay 0) (timm V3 update_after_step); default 0 */
  updateAfterStep?: number;
}

const isFloat = (d: DType) => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export class ModelEma {
  readonly decay: number;
  readonly excludeBuffers: boolean;
  readonly device: string | undefined;
  readonly warmup: boolean;
  readonly warmupGamma: number;
  readonly warmupPower: number;
  readonly minDecay: number;
  readonly updateAfterStep: number;
  /** name → the EMA's copy; parameters first, then persistent buffers */
  private readonly values = new Map<string, Tensor>();
  private readonly buffers = new Set<string>();
  private _updates = 0;

  constructor(model: EmaSource, opts: ModelEmaOptions = {}) {
    this.decay = opts.decay ?? 0.9999;
    if (!(this.decay >= 0 && this.decay <= 1)) throw new RangeError(`ModelEma: decay must be in [0, 1], got ${this.decay}`);
    this.excludeBuffers = opts.excludeBuffers ?? false;
    this.device = opts.device;
    this.warmup = opts.warmup ?? false;
    this.warmupGamma = opts.warmupGamma ?? 1;
    this.warmupPower = opts.warmupPower ?? 2 / 3;
    this.minDecay = opts.minDecay ?? 0;
    this.updateAfterStep = opts.updateAfterStep ?? 0;
    noGrad(() => {
      for (const [name, t] of this.sources(model)) {
        this.values.set(name, t.to({ device: this.device ?? t.device, copy: true }).keep());
      }
    });
  }

  private sources(model: EmaSource): [string, Tensor][] {
    const params = [...model.namedParameters()];
    const bufs = [...model.namedBuffers('', true)];
    if (this.buffers.size === 0) for (const [n] of bufs) this.buffers.add(n);
    return [...params, ...bufs];
  }

  /** Number of update() calls (restored by loadStateDict). */
  get updates(): number { return this._updates; }

  /** The decay used at `step` (timm V3 get_decay); without a step, the constant decay. */
  decayAt(step?: number): number {
    if (step === undefined) return this.decay;
    const s = Math.max(0, step - this.updateAfterStep - 1);
    if (s <= 0) return 0;
    if (!this.warmup) return this.decay;
    const d = 1 - (1 + s / this.warmupGamma) ** -this.warmupPower;
    return Math.max(Math.min(d, this.decay), this.minDecay);
  }

  /**
   * Moves the average towards the model's current values. `step` (e.g. the optimizer's update count)
   * selects the decay as decayAt(step); without it the constant decay is used (V2). Returns the decay used.
   */
  update(model: EmaSource, step?: number): number {
    const decay = this.decayAt(step);
    const src = new Map(this.sources(model));
    this.check(src, 'model');
    for (const [name, e] of this.values) {
      tidy(() => noGrad(() => {
        let v = src.get(name)!;
        if (v.device !== e.device) v = v.to({ device: e.device });
        if (!isFloat(e.dtype) || (this.excludeBuffers && this.buffers.has(name))) e.copy_(v);
        else e.mul_(decay).add_(v, 1 - decay);
      }));
    }
    this._updates++;
    return decay;
  }

  /** Copies the model's current values into the average (timm's set()). */
  set(model: EmaSource): void {
    const src = new Map(this.sources(model));
    this.check(src, 'model');
    noGrad(() => { for (const [name, e] of this.values) tidy(() => e.copy_(src.get(name)!)); });
  }

  /** Copies the average into the model (e.g. before evaluating or exporting it). */
  copyTo(model: EmaSource): void {
    const dst = new Map(this.sources(model));
    this.check(dst, 'model');
    noGrad(() => { for (const [name, e] of this.values) tidy(() => dst.get(name)!.copy_(e)); });
  }

  /**
   * Runs fn with the average's values in the model, then puts the model's own values back (also when fn
   * throws): evaluate the EMA weights without a second model.
   */
  withAveraged<T>(model: EmaSource, fn: () => T): T {
    const dst = new Map(this.sources(model));
    this.check(dst, 'model');
    const saved = noGrad(() => [...this.values.keys()].map((n) => [n, dst.get(n)!.clone().keep()] as const));
    try {
      this.copyTo(model);
      const r = fn();
      if (r instanceof Promise) throw new Error('ModelEma.withAveraged: fn must be synchronous');
      return r;
    } finally {
      noGrad(() => { for (const [n, t] of saved) { dst.get(n)!.copy_(t); t.dispose(); } });
    }
  }

  private check(src: Map<string, Tensor>, what: string): void {
    const missing = [...this.values.keys()].filter((n) => !src.has(n));
    const extra = [...src.keys()].filter((n) => !this.values.has(n));
    const bad = [...this.values].filter(([n, e]) => src.has(n) && !sameShape(src.get(n)!.shape, e.shape)).map(([n, e]) => `${n} (ema [${e.shape}], ${what} [${src.get(n)!.shape}])`);
    if (missing.length || extra.length || bad.length) {
      const parts = [];
      if (missing.length) parts.push(`missing in the ${what}: ${missing.join(', ')}`);
      if (extra.length) parts.push(`not in the EMA: ${extra.join(', ')}`);
      if (bad.length) parts.push(`shape mismatches: ${bad.join(', ')}`);
      throw new Error(`ModelEma: the ${what} does not match the averaged model: ${parts.join('; ')}`);
    }
  }

  /** The averaged tensors by name (the live ones; parameters then persistent buffers), as Module.stateDict. */
  stateDict(): Map<string, Tensor> { return new Map(this.values); }

  /** Number of updates, for a checkpoint's metadata. */
  meta(): { updates: number; decay: number } { return { updates: this._updates, decay: this.decay }; }

  /** Copies values in by name; missing, unexpected or mis-shaped names are an error naming them all. */
  loadStateDict(sd: Map<string, Tensor> | Record<string, Tensor>, meta?: { updates?: number }): void {
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    this.check(src, 'state dict');
    noGrad(() => { for (const [name, e] of this.values) tidy(() => e.copy_(src.get(name)!)); });
    if (meta?.updates !== undefined) this._updates = meta.updates;
  }

  dispose(): void {
    for (const t of this.values.values()) t.dispose();
    this.values.clear();
  }
}
