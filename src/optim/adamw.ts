// torch.optim.AdamW and torch.optim.Adam (1.13, single-tensor path, capturable=False), exactly:
//   step += 1
//   AdamW: p = p · (1 − lr·weightDecay)              (decoupled decay)
//   Adam:  g = g + weightDecay·p                     (L2, coupled through the moments)
//   m = β1·m + (1 − β1)·g ;  v = β2·v + (1 − β2)·g²
//   bc1 = 1 − β1^step ;  bc2 = 1 − β2^step
//   v̂ = amsgrad ? (vmax = max(vmax, v)) : v
//   denom = sqrt(v̂) / sqrt(bc2) + eps
//   p = p − (lr / bc1) · m / denom
// State slots use torch's names: exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad).
import { Tensor, zerosLike, foreach } from '../tensor';
import { Optimizer, OptimizerParams, ParamGroup, NamedParam, ParamState, BaseHyperparams, checkNonNegative } from './optimizer';

export interface AdamHyperparams extends BaseHyperparams {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}
export type AdamOptions = Partial<AdamHyperparams> & { /** multi-tensor kernels (default true) */ foreach?: boolean };

abstract class AdamBase extends Optimizer<AdamHyperparams> {
  protected abstract readonly decoupled: boolean;

  protected validate(h: AdamHyperparams, where: string): void {
    const k = this.kind;
    checkNonNegative(k, where, 'learning rate', h.lr);
    checkNonNegative(k, where, 'epsilon value', h.eps);
    checkNonNegative(k, where, 'weight_decay value', h.weightDecay);
    if (!Array.isArray(h.betas) || h.betas.length !== 2) throw new RangeError(`${k}: betas must be [beta1, beta2] in ${where}`);
    for (const [i, b] of h.betas.entries()) {
      if (typeof b !== 'number' || !(b >= 0 && b < 1)) throw new RangeError(`${k}: invalid beta parameter at index ${i}: ${b} in ${where} (expected 0 <= beta < 1)`);
    }
  }

  protected slotNames(g: ParamGroup<AdamHyperparams>): string[] {
    return g.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
  }

  protected update(p: NamedParam, grad0: Tensor, g: ParamGroup<AdamHyperparams>, st: ParamState): void {
    const param = p.tensor;
    const [beta1, beta2] = g.betas;
    let grad = g.maximize ? grad0.neg() : grad0;
    const expAvg = this.slot(st, 'exp_avg', () => zerosLike(param));
    const expAvgSq = this.slot(st, 'exp_avg_sq', () => zerosLike(param));
    // AMSGrad's running max starts at zero (also when amsgrad is switched on at resume)
    const maxSq = g.amsgrad ? this.slot(st, 'max_exp_avg_sq', () => zerosLike(param)) : null;

    st.step += 1;
    const step = st.step;
    if (this.decoupled) {
      param.mul_(1 - g.lr * g.weightDecay);
    } else if (g.weightDecay !== 0) {
      grad = grad.add(param, g.weightDecay);
    }
    expAvg.mul_(beta1).add_(grad, 1 - beta1);
    expAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);

    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const stepSize = g.lr / biasCorrection1;
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    let denom: Tensor;
    if (maxSq) {
      maxSq.copy_(maxSq.maximum(expAvgSq));
      denom = maxSq.sqrt().div(biasCorrection2Sqrt).add_(g.eps);
    } else {
      denom = expAvgSq.sqrt().div(biasCorrection2Sqrt).add_(g.eps);
    }
    param.addcdiv_(expAvg, denom, -stepSize);
  }

  /** torch/optim/adamw.py `_multi_tensor_adamw` (adam.py for L2 decay), written as `update`
   *  above: same ops, same order. Parameters at different step counts (one added later) are
   *  updated in one list per count, as their bias corrections differ. */
  protected override updateGroup(items: { p: NamedParam; grad: Tensor; st: ParamState }[], g: ParamGroup<AdamHyperparams>): boolean {
    if (g.amsgrad || g.maximize) return false;
    const [beta1, beta2] = g.betas;
    const bySteps = new Map<number, typeof items>();
    for (const it of items) (bySteps.get(it.st.step) ?? bySteps.set(it.st.step, []).get(it.st.step)!).push(it);
    for (const [before, list] of bySteps) {
      const params = list.map((it) => it.p.tensor);
      let grads = list.map((it) => it.grad);
      const m = list.map((it) => this.slot(it.st, 'exp_avg', () => zerosLike(it.p.tensor)));
      const v = list.map((it) => this.slot(it.st, 'exp_avg_sq', () => zerosLike(it.p.tensor)));
      for (const it of list) it.st.step += 1;
      const step = before + 1;
      if (this.decoupled) foreach.foreachMul_(params, 1 - g.lr * g.weightDecay);
      else if (g.weightDecay !== 0) grads = foreach.foreachAdd(grads, params, g.weightDecay);
      foreach.foreachMul_(m, beta1);
      foreach.foreachAdd_(m, grads, 1 - beta1);
      foreach.foreachMul_(v, beta2);
      foreach.foreachAddcmul_(v, grads, grads, 1 - beta2);
      const biasCorrection1 = 1 - beta1 ** step;
      const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** step);
      const denom = foreach.foreachSqrt(v);
      foreach.foreachDiv_(denom, biasCorrection2Sqrt);
      foreach.foreachAdd_(denom, g.eps);
      foreach.foreachAddcdiv_(params, m, denom, -(g.lr / biasCorrection1));
    }
    return true;
  }
}

function adamDefaults(o: AdamOptions, weightDecay: number): AdamHyperparams {
  return {
    lr: o.lr ?? 1e-3,
    betas: o.betas ? [o.betas[0], o.betas[1]] : [0.9, 0.999],
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? weightDecay,
    amsgrad: o.amsgrad ?? false,
    maximize: o.maximize ?? false,
  };
}

/** torch.optim.AdamW: decoupled weight decay (default 1e-2, lr 1e-3, betas [0.9, 0.999], eps 1e-8). */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: OptimizerParams<AdamHyperparams>, opts: AdamOptions = {}) {
    super('AdamW', params, adamDefaults(opts, 1e-2));
    this.foreach = opts.foreach ?? true;
  }
}

/** torch.optim.Adam: L2 weight decay added to the gradient (default 0). */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: OptimizerParams<AdamHyperparams>, opts: AdamOptions = {}) {
    super('Adam', params, adamDefaults(opts, 0));
    this.foreach = opts.foreach ?? true;
  }
}
