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

/** Hinton KD: T² · KL(softmax(t/T) ‖ softmax(s/T)), batchmean. */
export function kdLoss(student: Tensor, teacher: Tensor, temperature: number): Tensor {
  const T = temperature;
  return F.kl_div(F.log_softmax(student.div(T), 1), F.softmax(teacher.div(T), 1), { reduction: 'batchmean' }).mul(T * T);
}
