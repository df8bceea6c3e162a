// Decoupled KD (Zhao et al. 2022, mdistiller DKD.py): α·TCKD + β·NCKD.
import { Tensor, F, cat } from '../../../tensor';

export function dkdTerms(student: Tensor, teacher: Tensor, y: Tensor, temperature: number): { tckd: Tensor; nckd: Tensor } {
  const T = temperature;
  const B = y.shape[0];
  const gt = F.one_hot(y, student.shape[1]).to(student.dtype);
  const other = gt.rsub(1);
  const binary = (p: Tensor) => cat([p.mul(gt).sum(1, true), p.mul(other).sum(1, true)], 1);
  const ps = binary(F.softmax(student.div(T), 1));
  const pt = binary(F.softmax(teacher.div(T), 1));
  const tckd = F.kl_div(ps.log(), pt, { reduction: 'sum' }).mul(T * T / B);
  const pt2 = F.softmax(teacher.div(T).sub(gt.mul(1000)), 1);
  const logPs2 = F.log_softmax(student.div(T).sub(gt.mul(1000)), 1);
  const nckd = F.kl_div(logPs2, pt2, { reduction: 'sum' }).mul(T * T / B);
  return { tckd, nckd };
}

/** α·TCKD + β·NCKD, without the warm-up factor (the method applies it). */
export function dkdLoss(student: Tensor, teacher: Tensor, y: Tensor, o: { alpha: number; beta: number; temperature: number }): Tensor {
  const { tckd, nckd } = dkdTerms(student, teacher, y, o.temperature);
  return tckd.mul(o.alpha).add(nckd.mul(o.beta));
}
