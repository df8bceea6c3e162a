// Contrastive representation distillation: NCE loss (Tian et al.; RepDistiller crd/criterion.py).
import { Tensor } from '../../../tensor';

/** x: [B, K+1] normalised scores (column 0 the positive). -(1/B)[Σ log(P_pos/(P_pos+m·Pn+eps)) + Σ log(m·Pn/(P_neg+m·Pn+eps))]. */
export function nceLoss(x: Tensor, nData: number, eps = 1e-7): Tensor {
  const B = x.shape[0];
  const m = x.shape[1] - 1;
  const mPn = m / nData;
  const pos = x.narrow(1, 0, 1);
  const neg = x.narrow(1, 1, m);
  const logPos = pos.div(pos.add(mPn + eps)).log();
  const logNeg = neg.add(mPn + eps).reciprocal().mul(mPn).log();
  return logPos.sum().add(logNeg.sum()).neg().div(B);
}
