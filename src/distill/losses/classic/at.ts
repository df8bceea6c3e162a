// Attention transfer (Zagoruyko & Komodakis; RepDistiller AT.py).
import { Tensor, F } from '../../../tensor';

/** a(F) = normalize_L2(mean_c F^p) flattened to [B, H·W]. */
export function attentionMap(f: Tensor, p = 2): Tensor {
  return F.normalize(f.pow(p).mean(1).reshape(f.shape[0], -1));
}

/** One layer pair, 'code' form: mean over B·H·W of (a_s - a_t)²; the larger map is adaptive-avg-pooled
 *  to the smaller size first. 'paper' form: Σ_b ‖a_s - a_t‖₂ / B (non-squared; β/2 is the caller's). */
export function atLoss(student: Tensor, teacher: Tensor, p = 2, form: 'code' | 'paper' = 'code'): Tensor {
  [student, teacher] = matchSpatial(student, teacher);
  const d = attentionMap(student, p).sub(attentionMap(teacher, p));
  return form === 'code' ? d.pow(2).mean() : d.norm(2, 1).mean();
}

/** Adaptive-avg-pools the larger of two [B, C, H, W] maps to the other's spatial size. */
export function matchSpatial(a: Tensor, b: Tensor): [Tensor, Tensor] {
  const ha = a.shape[2], hb = b.shape[2];
  if (ha > hb) return [F.adaptive_avg_pool2d(a, [b.shape[2], b.shape[3]]), b];
  if (hb > ha) return [a, F.adaptive_avg_pool2d(b, [a.shape[2], a.shape[3]])];
  return [a, b];
}
