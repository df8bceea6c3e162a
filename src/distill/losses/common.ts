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

/** LSKD's logit standardization (Sun et al. CVPR 2024; sunshangquan/logit-standardization-KD,
 *  `normalize()` in mdistiller/distillers/KD.py): per sample, (z - mean) / (1e-7 + std) over the
 *  classes, std unbiased as torch's default. The temperature then divides the standardized logits. */
export function standardizeLogits(z: Tensor): Tensor {
  return z.sub(z.mean(-1, true)).div(z.std(-1, { keepdim: true }).add(1e-7));
}

/** Student and teacher logits standardized when `on` (the `logitStand` switch of kd, dkd, …), as they are otherwise. */
export function maybeStandardized(student: Tensor, teacher: Tensor, on: boolean): [Tensor, Tensor] {
  return on ? [standardizeLogits(student), standardizeLogits(teacher)] : [student, teacher];
}
