// Similarity-preserving KD (Tung & Mori; RepDistiller SP.py).
import { Tensor, F } from '../../../tensor';

/** Row-L2-normalised batch Gram matrix of the flattened features. */
export function similarityMatrix(f: Tensor): Tensor {
  const q = f.reshape(f.shape[0], -1);
  return F.normalize(q.matmul(q.t()));
}

/** ‖G_t - G_s‖²_F / B². */
export function spLoss(student: Tensor, teacher: Tensor): Tensor {
  const b = student.shape[0];
  return similarityMatrix(teacher).sub(similarityMatrix(student)).pow(2).sum().div(b * b);
}
