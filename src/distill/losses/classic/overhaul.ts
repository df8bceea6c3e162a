// Overhaul of feature distillation (Heo et al. ICCV 2019; clovaai/overhaul-distillation).
import { Tensor, F, fromTypedArray } from '../../../tensor';

/** erfc with fractional error < 1.2e-7 (Numerical Recipes erfcc). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}
export const normalCdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);

/** Per-channel margin E[x | x<0] for x ~ N(β, γ²), or -3|γ| when Φ(-β/|γ|) ≤ 0.001. */
export function overhaulMarginValues(bnWeight: ArrayLike<number>, bnBias: ArrayLike<number>): Float64Array {
  const m = new Float64Array(bnWeight.length);
  for (let c = 0; c < m.length; c++) {
    const s = Math.abs(bnWeight[c]), mu = bnBias[c];
    const cdf = normalCdf(-mu / s);
    m[c] = cdf > 0.001 ? -s * Math.exp(-((mu / s) ** 2) / 2) / Math.sqrt(2 * Math.PI) / cdf + mu : -3 * s;
  }
  return m;
}

/** The margin as a [1, C, 1, 1] tensor (no gradient). */
export function overhaulMargin(bnWeight: Tensor, bnBias: Tensor): Tensor {
  const w = bnWeight.detach().to('float64').cpu().toTypedArray() as Float64Array;
  const b = bnBias.detach().to('float64').cpu().toTypedArray() as Float64Array;
  return fromTypedArray(overhaulMarginValues(w, b), [1, w.length, 1, 1]).to({ dtype: bnWeight.dtype, device: bnWeight.device });
}

/** Partial L2: t' = max(t, margin); Σ (s - t')² where s > t' or t' > 0 (a sum over all elements). */
export function overhaulLoss(student: Tensor, teacher: Tensor, margin: Tensor): Tensor {
  const t = teacher.detach().maximum(margin.to(teacher.dtype));
  const l = F.mse_loss(student, t, { reduction: 'none' });
  const mask = student.gt(t).logicalOr(t.gt(0)).to(l.dtype);
  return l.mul(mask).sum();
}
