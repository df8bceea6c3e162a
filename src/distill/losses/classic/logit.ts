// Logit-level losses of the classic KD family (Hinton et al. 2015; RepDistiller KD.py; BSS, Heo et al. AAAI 2019): Hinton KD with an
// explicit reduction, label smoothing, Tf-KD (virtual teacher), CS-KD, BSS's soft cross-entropy.
import { Tensor, F } from '../../../tensor';

// Hinton KD lives with the shared losses (losses/common.ts); re-exported for the classic methods.
import { hintonKd, type KlReduction } from '../common';
export { hintonKd, type KlReduction };

/** Label-smoothed cross-entropy. 'overAll' (Szegedy): q = (1-ε)·onehot + ε/K;
 *  'overOthers' (Tf-KD code): target 1-ε, every other class ε/(K-1). Summed over classes, mean over the batch. */
export function labelSmoothingLoss(logits: Tensor, y: Tensor, eps: number, variant: 'overAll' | 'overOthers' = 'overAll'): Tensor {
  const K = logits.shape[1];
  const oh = F.one_hot(y, K).to(logits.dtype);
  const q = variant === 'overAll'
    ? oh.mul(1 - eps).add(eps / K)
    : oh.mul(1 - eps - eps / (K - 1)).add(eps / (K - 1));
  return q.neg().mul(F.log_softmax(logits, 1)).sum(1).mean();
}

/** Tf-KD virtual teacher distribution p^d: correctProb on the label, (1-correctProb)/(K-1) elsewhere. */
export function virtualTeacher(y: Tensor, K: number, correctProb: number, dtype: Tensor['dtype'] = 'float32'): Tensor {
  const other = (1 - correctProb) / (K - 1);
  return F.one_hot(y, K).to(dtype).mul(correctProb - other).add(other);
}

/** Tf-KD_reg, official-code form: (1-α)·CE + α·multiplier·KL_mean(log_softmax(z), softmax(p^d/T)) (/(B·K), untempered student, no T²). */
export function tfkdVirtualLoss(logits: Tensor, y: Tensor, o: { alpha: number; temperature: number; multiplier: number; correctProb: number }): Tensor {
  const { ce, kl } = tfkdVirtualTerms(logits, y, o);
  return ce.add(kl);
}
export function tfkdVirtualTerms(logits: Tensor, y: Tensor, o: { alpha: number; temperature: number; multiplier: number; correctProb: number }): { ce: Tensor; kl: Tensor } {
  const pd = virtualTeacher(y, logits.shape[1], o.correctProb, logits.dtype);
  const kl = F.kl_div(F.log_softmax(logits, 1), F.softmax(pd.div(o.temperature), 1), { reduction: 'mean' }).mul(o.multiplier);
  return { ce: F.cross_entropy(logits, y).mul(1 - o.alpha), kl: kl.mul(o.alpha) };
}

/** Tf-KD_reg, paper form: α·KL_batchmean(p^d_τ ‖ p^τ) with p^d_τ ∝ (p^d)^{1/τ} and a tempered student (T² kept). */
export function tfkdVirtualPaperKl(logits: Tensor, y: Tensor, correctProb: number, temperature: number): Tensor {
  const pd = virtualTeacher(y, logits.shape[1], correctProb, logits.dtype);
  // softmax(log p^d / τ) = renormalised (p^d)^{1/τ}: the "virtual teacher logits" are log p^d
  return hintonKd(logits, pd.log(), temperature);
}

/** CS-KD: T² · KL(softmax(z_pair/T) ‖ softmax(z/T)), batchmean; the paired logits are a constant. */
export function csKdLoss(logits: Tensor, pairedLogits: Tensor, temperature: number): Tensor {
  return hintonKd(logits, pairedLogits.detach(), temperature);
}

/** BSS soft cross-entropy: -(1/B) Σ softmax(z_t/T)·log_softmax(z_s/T); no T² (bhheo/BSS_distillation). */
export function softCrossEntropyT(student: Tensor, teacher: Tensor, temperature: number): Tensor {
  return F.softmax(teacher.div(temperature), 1).neg().mul(F.log_softmax(student.div(temperature), 1)).sum(1).mean();
}
