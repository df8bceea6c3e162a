// The one training step and the one evaluation. train() drives them from a config; the methods
// table, the multi-stage schemes (train/schemes.ts) and the tests drive them through fit(), a
// fixed-step loop over a batch function. Both go through Stepper, so the forward under autocast,
// the sum of the named loss terms, gradient accumulation, the non-finite checks, clipping, the
// optimizer step and the EMA update are written once.
import { Tensor, tidy, noGrad, autocast, stack, cat, ones } from '../tensor';
import type { Distiller, DistillBatch, StepContext, TrainOutput, InitPhase } from '../distill/distiller';
import type { Classifier } from '../models/registry';
import { SGD, AdamW, clipGradNorm, nonFiniteGrads, ModelEma } from '../optim';
import type { Optimizer } from '../optim/optimizer';
import { EvalAccumulator } from './metrics';
import type { StepSync } from './ddp';
import { CachedTeacher } from './cache/cached_teacher';

export class NonFiniteError extends Error {
  constructor(msg: string) { super(msg); this.name = 'NonFiniteError'; }
}

export interface AmpOptions { enabled: boolean; device: 'cpu' | 'cuda'; dtype: 'bfloat16' }

export interface StepperOptions {
  /** micro-batches per optimizer step (the loss of each is divided by it) */
  accumulate?: number;
  /** max global gradient norm (0 or absent: no clipping) */
  clipGrad?: number;
  /** a non-finite loss term or gradient: throw NonFiniteError ('stop') or skip the step ('skip') */
  onNonFinite?: 'stop' | 'skip';
  amp?: AmpOptions;
  /** batches are moved here before the forward */
  device?: string;
  /** sets the learning rate before each optimizer step; returns it */
  lr?: (optimizer: Optimizer<any>, ctx: StepContext) => number;
  ema?: ModelEma | null;
  /** test hook: multiply the first loss term by NaN at this step */
  injectNanAtStep?: number;
  log?: (line: string) => void;
  /** data-parallel runs (train/ddp.ts): the backward that averages gradients over ranks, and the
   *  loss terms averaged over ranks (so every rank logs and skips alike) */
  sync?: StepSync | null;
}

/** What one micro-batch did: still accumulating, skipped (non-finite), or completed an optimizer step. */
export type StepResult =
  | { kind: 'accumulating'; terms: Record<string, number> }
  | { kind: 'skipped'; reason: string }
  | { kind: 'stepped'; terms: Record<string, number>; loss: number; lr: number };

/** What a Stepper trains: a distiller, or a method's init phase (distill/distiller.ts InitPhase). */
export interface StepTarget {
  trainStep(b: DistillBatch, ctx: StepContext): TrainOutput;
  namedParameters(): Iterable<[string, Tensor]>;
  readonly student: Classifier;
  /** a distiller's teachers (cached ones look each batch's views up); an init phase has none */
  readonly teachers?: readonly unknown[];
}

/** The init phase's own optimizer: SGD over the phase's parameters at its constant learning rate
 *  (weight decay on every one of them, as RepDistiller's pretrain.py builds it). */
export function initPhaseOptimizer(p: InitPhase): SGD {
  return new SGD(p.namedParameters(), { lr: p.sgd.lr, momentum: p.sgd.momentum, weightDecay: p.sgd.weightDecay });
}

export class Stepper {
  private micro = 0;
  private readonly named: [string, Tensor][];
  private readonly cached: CachedTeacher[];
  private readonly o: Required<Pick<StepperOptions, 'accumulate' | 'clipGrad' | 'onNonFinite' | 'device'>> & StepperOptions;

  constructor(readonly distiller: StepTarget, readonly optimizer: Optimizer<any>, o: StepperOptions = {}) {
    this.o = { accumulate: 1, clipGrad: 0, onNonFinite: 'stop', device: 'cpu', ...o };
    this.named = [...distiller.namedParameters()].filter(([, p]) => p.requiresGrad);
    this.cached = (distiller.teachers ?? []).filter((t): t is CachedTeacher => t instanceof CachedTeacher);
  }

  /** Forward, loss and backward of one micro-batch; every `accumulate`-th one also steps the optimizer.
   *  The batch's tensors stay the caller's. */
  step(b: DistillBatch, ctx: StepContext): StepResult {
    const o = this.o;
    const stepping = this.micro + 1 >= o.accumulate;
    o.sync?.beforeForward(stepping);
    // cached teachers look the batch's views up (train/cache/)
    for (const t of this.cached) {
      if (!b.views || !b.indices) throw new Error(`${t.name}: the batch carries no views (a cached teacher needs a loader built with views)`);
      t.setBatch(b.indices, b.views);
    }
    // Forward and loss in their own scope: once it closes, the only references to the
    // activations are autograd's, so backward frees each as soon as it is used.
    const r = tidy(() => {
      const onDev = (t?: Tensor) => (t && o.device !== 'cpu' ? t.to({ device: o.device }) : t);
      const batch = { x: onDev(b.x)!, y: onDev(b.y)!, soft: onDev(b.soft), indices: b.indices };
      // forward and loss under autocast when precision is bf16; backward outside it
      const out = o.amp ? autocast(() => this.distiller.trainStep(batch, ctx), o.amp) : this.distiller.trainStep(batch, ctx);
      if (o.injectNanAtStep === ctx.step) {
        const k = Object.keys(out.terms)[0];
        out.terms[k] = out.terms[k].mul(NaN);
      }
      // The term values stay on the device here: they are read back once, after backward,
      // together with the gradients' finiteness flag (one host synchronisation per step instead
      // of one per term plus one per parameter).
      const names = Object.keys(out.terms);
      // loss terms are summed (and backward seeded) in float32 whatever autocast produced
      // (a no-op for float32 terms); the weights stay float32 masters, autocast casts per op
      const total = names.map((k) => (out.terms[k].dtype === 'float32' ? out.terms[k] : out.terms[k].to('float32'))).reduce((a, t) => a.add(t));
      const vals = stack(names.map((k) => out.terms[k].detach().to('float64').reshape([])));
      return { names, vals, total: total.div(o.accumulate) };
    });
    // backward runs even when a term is non-finite (found out only at the read-back below): the
    // step is then skipped and its gradients cleared, as before, at the cost of one wasted backward
    if (o.sync) o.sync.backward(r.total, stepping); else r.total.backward();
    r.total.dispose();
    this.micro++;
    const read = tidy(() => noGrad(() => {
      if (!stepping) return Array.from(r.vals.toFloat64Array());
      const grads = this.named.map(([, p]) => p.grad).filter((g): g is Tensor => g !== null);
      const ok = grads.length ? stack(grads.map((g) => g.isfinite().all())).all().to('float64').reshape([1]) : ones([1], { dtype: 'float64' });
      return Array.from(cat([r.vals, ok]).toFloat64Array());
    }));
    r.vals.dispose();
    if (o.sync) read.splice(0, r.names.length, ...o.sync.reduce(read.slice(0, r.names.length)));
    const vals: Record<string, number> = {};
    r.names.forEach((k, i) => { vals[k] = read[i]; });
    const bad = Object.entries(vals).find(([, v]) => !Number.isFinite(v));
    const where = `step ${ctx.step} (epoch ${ctx.epoch + 1})`;
    if (bad) return this.skip(`non-finite loss at ${where}: term '${bad[0]}' = ${bad[1]}`);
    if (!stepping) return { kind: 'accumulating', terms: vals };
    this.micro = 0;
    if (read[r.names.length] === 0) {
      // only on the rare bad step: name the parameters (one read-back each)
      const badGrads = nonFiniteGrads(this.named.map(([name, tensor]) => ({ name, tensor })));
      return this.skip(`non-finite gradients at ${where} in ${badGrads.slice(0, 5).join(', ')}${badGrads.length > 5 ? ` and ${badGrads.length - 5} more` : ''}`);
    }
    if (o.clipGrad) clipGradNorm(this.named.map(([, p]) => p), o.clipGrad);
    const lr = o.lr ? o.lr(this.optimizer, ctx) : this.optimizer.paramGroups[0].lr;
    this.optimizer.step();
    this.optimizer.zeroGrad();
    o.ema?.update(this.distiller.student, ctx.step);
    return { kind: 'stepped', terms: vals, loss: Object.values(vals).reduce((a, v) => a + v, 0), lr };
  }

  /** Starts a new accumulation window (train() does at each epoch, as the loader restarts). */
  restartWindow(): void { this.micro = 0; }

  private skip(msg: string): StepResult {
    if (this.o.onNonFinite === 'stop') throw new NonFiniteError(msg);
    this.o.log?.(`${msg}; skipping the step`);
    this.optimizer.zeroGrad();
    this.micro = 0;
    return { kind: 'skipped', reason: msg };
  }
}

// ---- a fixed-step loop over a batch function (methods table, schemes, tests) -------------------
export interface FitOptions {
  steps: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  stepsPerEpoch?: number;
  totalEpochs?: number;
  /** 'sgd' (default, momentum 0.9) or 'adamw' (for transformer students) */
  optimizer?: 'sgd' | 'adamw';
  /** 'constant' (default) or 'cosine' (lr·½(1+cos(π·step/steps))) */
  schedule?: 'constant' | 'cosine';
  /** called after every step with the term values; `phase` is the init phase's name or 'main'
   *  (steps count from 0 in each phase) */
  onStep?: (step: number, terms: Record<string, number>, info: { phase: string; lr: number }) => void;
}

/** Trains the distiller's parameters for `steps` steps on `nextBatch(step)` (SGD momentum 0.9,
 *  wd 5e-4, lr 0.05 unless told otherwise); returns each term's per-step values. A method with an
 *  init phase (FSP) trains it first, with its own optimizer and constant learning rate, for its
 *  epochs × stepsPerEpoch steps, on the batches before the main ones; its terms come first in the history. */
export function fit(d: Distiller, nextBatch: (step: number) => DistillBatch, o: FitOptions): Record<string, number[]> {
  const hist: Record<string, number[]> = {};
  const spe = o.stepsPerEpoch ?? 10;
  let batchIndex = 0;
  const loop = (target: StepTarget, opt: Optimizer<any>, steps: number, totalEpochs: number, phase: string, lr?: StepperOptions['lr']) => {
    const stepper = new Stepper(target, opt, { lr });
    opt.zeroGrad();
    for (let step = 0; step < steps; step++) {
      const ctx: StepContext = { step, epoch: Math.floor(step / spe), totalEpochs, stepsPerEpoch: spe };
      const r = tidy(() => stepper.step(nextBatch(batchIndex++), ctx));
      if (r.kind !== 'stepped') throw new Error(`fit: ${phase} step ${step} did not complete (${r.kind})`);
      for (const [k, v] of Object.entries(r.terms)) (hist[k] ??= []).push(v);
      o.onStep?.(step, r.terms, { phase, lr: r.lr });
    }
  };
  d.train();
  const init = d.initPhase();
  if (init) {
    const opt = initPhaseOptimizer(init);
    try { loop(init, opt, init.epochs * spe, init.epochs, init.name); } finally { opt.dispose?.(); }
  }
  const opt: Optimizer<any> = o.optimizer === 'adamw'
    ? new AdamW(d, { lr: o.lr ?? 1e-3, weightDecay: o.weightDecay ?? 0.05 })
    : new SGD(d, { lr: o.lr ?? 0.05, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 5e-4 });
  const lr0 = opt.paramGroups.map((g) => g.lr);
  const lr = (op: Optimizer<any>, ctx: StepContext) => {
    if (o.schedule === 'cosine') op.paramGroups.forEach((g, i) => { g.lr = lr0[i] * 0.5 * (1 + Math.cos(Math.PI * ctx.step / o.steps)); });
    return op.paramGroups[0].lr;
  };
  try { loop(d, opt, o.steps, o.totalEpochs ?? Math.ceil(o.steps / spe), 'main', lr); } finally { opt.dispose?.(); }
  return hist;
}

// ---- evaluation ------------------------------------------------------------------------------
export interface EvalResult { top1: number; top5: number; loss: number; ece: number; n: number }

/** A batch to evaluate: images and their labels; `y` (if any) is disposed with `x` when `dispose` is set. */
export interface EvalBatch { x: Tensor; labels: ArrayLike<number>; y?: Tensor }

type Predictor = ((x: Tensor) => Tensor) | { predict(x: Tensor): Tensor; train(m?: boolean): unknown; training: boolean };

/** Top-1/top-5, NLL and expected calibration error of a model (its predict(), in eval mode) or a
 *  logits function over batches. The classes count comes from the logits when not given. */
export function evaluate(model: Predictor, batches: Iterable<EvalBatch>, o: { numClasses?: number; device?: string; dispose?: boolean } = {}): EvalResult {
  const device = o.device ?? 'cpu';
  const predict = typeof model === 'function' ? model : (x: Tensor) => model.predict(x);
  const was = typeof model === 'function' ? null : model.training;
  if (typeof model !== 'function') model.train(false);
  let acc: EvalAccumulator | null = o.numClasses ? new EvalAccumulator(o.numClasses) : null;
  try {
    for (const b of batches) {
      tidy(() => noGrad(() => {
        const logits = predict(device === 'cpu' ? b.x : b.x.to({ device })).to({ dtype: 'float32', device: 'cpu' });
        acc ??= new EvalAccumulator(logits.shape[1]);
        acc.add(logits.toTypedArray() as Float32Array, b.labels);
      }));
      if (o.dispose) { b.x.dispose(); b.y?.dispose(); }
    }
  } finally {
    if (was !== null && typeof model !== 'function') model.train(was);
  }
  if (!acc) throw new Error('evaluate: no batches');
  const r = acc.result();
  return { top1: r.topk[1], top5: r.topk[5] ?? r.topk[1], loss: r.loss, ece: r.ece, n: r.n };
}

/** In-memory images [N, …] and labels [N] as evaluation batches of `batch` (views of the tensors). */
export function* tensorBatches(x: Tensor, y: Tensor, batch = 256): Generator<EvalBatch> {
  const n = x.shape[0];
  const labels = tidy(() => y.to('int32').toTypedArray() as Int32Array);
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const xb = x.narrow(0, i, m);
    try { yield { x: xb, labels: labels.subarray(i, i + m) }; } finally { xb.dispose(); }
  }
}

/** Top-1 accuracy of a model or logits function on in-memory tensors (evaluate's top-1). */
export function accuracy(model: Predictor, x: Tensor, y: Tensor, batch = 256): number {
  return evaluate(model, tensorBatches(x, y, batch)).top1;
}
