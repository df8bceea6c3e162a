// Loss building blocks shared by methods.
import { Tensor, F } from '../../tensor';

/** timm's SoftTargetCrossEntropy: mean over the batch of -Σ target · log_softmax(logits). */
export function softTargetCrossEntropy(logits: Tensor, target: Tensor): Tensor {
  return target.neg().mul(F.log_softmax(logits, -1)).sum(-1).mean();
}

/** Cross-entropy against class indices or (mixup) soft targets, with optional label smoothing for hard targets. */
export function classificationLoss(logits: Tensor, y: Tensor, soft?: Tensor, labelSmoothing = 0): Tensor {
  if (soft) return softTargetCrossEntropy(logits, soft);
  return F.cross_entropy(logits, y, { label_smoothing: labelSmoothing });
}

/** How a KL divergence over [B, K] is reduced: 'batchmean' = sum/B (correct), 'mean' = sum/(B·K)
 *  (legacy nn.KLDivLoss() default, which Tf-KD and TAKD weights assume), 'sum'. */
export type KlReduction = 'batchmean' | 'mean' | 'sum';

/** Hinton KD (Hinton et al. 2015): T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)) with the given
 *  reduction (default batchmean). The one KD loss of civet: classic methods and Co-advise use it. */
export function hintonKd(student: Tensor, teacher: Tensor, temperature: number, reduction: KlReduction = 'batchmean'): Tensor {
  const T = temperature;
  return F.kl_div(F.log_softmax(student.div(T), 1), F.softmax(teacher.div(T), 1), { reduction }).mul(T * T);
}
