// Relational KD (Park et al.; RepDistiller RKD.py).
import { Tensor, F, eye } from '../../../tensor';

/** Euclidean distance matrix: sqrt(clamp(‖e_i‖²+‖e_j‖²-2e_i·e_j, eps)), diagonal 0. */
export function pdist(e: Tensor, eps = 1e-12): Tensor {
  const sq = e.pow(2).sum(1);
  const d = sq.unsqueeze(1).add(sq.unsqueeze(0)).sub(e.matmul(e.t()).mul(2)).clampMin(eps).sqrt();
  return d.mul(eye(e.shape[0], e.shape[0], { dtype: e.dtype, device: e.device }).rsub(1));
}

function normalisedDistances(e: Tensor): Tensor {
  const d = pdist(e);
  const pos = d.gt(0).sum().item();
  return d.div(d.sum().div(pos));
}

function angles(e: Tensor): Tensor {
  const v = F.normalize(e.unsqueeze(0).sub(e.unsqueeze(1)), { p: 2, dim: 2 });
  return v.bmm(v.transpose(1, 2)).reshape(-1);
}

export function rkdTerms(student: Tensor, teacher: Tensor): { distance: Tensor; angle: Tensor } {
  const s = student.reshape(student.shape[0], -1);
  const t = teacher.reshape(teacher.shape[0], -1);
  return {
    distance: F.smooth_l1_loss(normalisedDistances(s), normalisedDistances(t)),
    angle: F.smooth_l1_loss(angles(s), angles(t)),
  };
}

/** w_dist·L_D + w_angle·L_A (defaults 25 and 50 as RepDistiller). */
export function rkdLoss(student: Tensor, teacher: Tensor, wDist = 25, wAngle = 50): Tensor {
  const { distance, angle } = rkdTerms(student, teacher);
  return distance.mul(wDist).add(angle.mul(wAngle));
}
