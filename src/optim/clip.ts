// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_, 1.13) and a finite check.
import { Tensor, tidy, noGrad, stack } from '../tensor';
import { Optimizer, NamedParam } from './optimizer';

/** Parameters whose gradients to use: tensors, named parameters, a Module (all its parameters) or an Optimizer (its parameters). */
export type GradSource = Iterable<Tensor | NamedParam> | { parameters(): Tensor[] } | Optimizer<any>;

function tensorsOf(src: GradSource): Tensor[] {
  if (src instanceof Optimizer) return src.namedParams().map((p) => p.tensor);
  if (typeof (src as any).parameters === 'function') return (src as { parameters(): Tensor[] }).parameters();
  return [...(src as Iterable<Tensor | NamedParam>)].map((x) => (x instanceof Tensor ? x : x.tensor));
}

/**
 * Scales all gradients in place so that their joint `normType`-norm is at most `maxNorm`, exactly as
 * torch.nn.utils.clip_grad_norm_: total = ‖(‖g₁‖, ‖g₂‖, …)‖ (max of |g| for Infinity), each gradient is
 * multiplied by min(maxNorm / (total + 1e-6), 1) (always, also when that is 1). Parameters without a
 * gradient are ignored. Returns the total norm BEFORE clipping (0 when there are no gradients; NaN or
 * Infinity when a gradient is not finite, in which case the gradients become NaN unless
 * `errorIfNonfinite` makes it throw first).
 */
export function clipGradNorm(params: GradSource, maxNorm: number, normType = 2, opts: { errorIfNonfinite?: boolean } = {}): number {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  if (!(normType > 0)) throw new RangeError(`clipGradNorm: normType must be > 0 (or Infinity), got ${normType}`);
  const tensors = tensorsOf(params);
  return tidy(() => noGrad(() => {
    const grads = tensors.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return 0;
    const device = grads[0].device;
    const onDevice = (t: Tensor) => (t.device === device ? t : t.to({ device }));
    let total: Tensor;
    if (normType === Infinity) {
      const norms = grads.map((g) => onDevice(g.abs().max()));
      total = norms.length === 1 ? norms[0] : stack(norms).max();
    } else {
      total = stack(grads.map((g) => onDevice(g.norm(normType)))).norm(normType);
    }
    const value = total.item();
    if (opts.errorIfNonfinite && !Number.isFinite(value)) {
      throw new Error(`clipGradNorm: the total norm of order ${normType} of the gradients is non-finite (${value}), so it cannot be clipped`);
    }
    // torch: clip_coef = max_norm / (total_norm + 1e-6), where float / Tensor is reciprocal() * float
    const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1.0);
    for (const g of grads) g.mul_(g.device === coef.device ? coef : coef.to({ device: g.device }));
    return value;
  }));
}

/** True when every gradient present is free of NaN and ±Infinity (one device sync for all of them). */
export function gradsAreFinite(params: GradSource): boolean {
  const tensors = tensorsOf(params);
  return tidy(() => noGrad(() => {
    const grads = tensors.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return true;
    const device = grads[0].device;
    const flags = grads.map((g) => { const f = g.isfinite().all(); return f.device === device ? f : f.to({ device }); });
    return flags.length === 1 ? Number(flags[0].item()) !== 0 : Number(stack(flags).all().item()) !== 0;
  }));
}

/** Names of the parameters whose gradient has a NaN or ±Infinity (for an error message after gradsAreFinite fails). */
export function nonFiniteGrads(params: Iterable<NamedParam> | Optimizer<any>): string[] {
  const named = params instanceof Optimizer ? params.namedParams() : [...params];
  return tidy(() => noGrad(() => named.filter((p) => {
    const g = p.tensor.grad;
    return g !== null && Number(g.isfinite().all().item()) === 0;
  }).map((p) => p.name)));
}
