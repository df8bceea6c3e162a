// Probabilistic knowledge transfer (Passalis & Tefas; RepDistiller PKT.py, passalis/pkth).
import { Tensor } from '../../../tensor';

export type PktKernel = 'cosine' | 'student_t' | 'combined';
export type PktDivergence = 'kl' | 'jeffreys';

function rowNormalise(k: Tensor): Tensor { return k.div(k.sum(1, true)); }

function cosineKernel(f: Tensor, eps: number): Tensor {
  f = f.reshape(f.shape[0], -1);
  f = f.div(f.pow(2).sum(1, true).sqrt().add(eps));
  return f.matmul(f.t()).add(1).div(2);
}

function studentTKernel(f: Tensor): Tensor {
  f = f.reshape(f.shape[0], -1);
  const sq = f.pow(2).sum(1);
  const d2 = sq.unsqueeze(1).add(sq.unsqueeze(0)).sub(f.matmul(f.t()).mul(2)).clampMin(0);
  const d = d2.add(1e-6).sqrt();
  return d.add(1).reciprocal();
}

/** Conditional probability matrix P_{j|i} under the RepDistiller cosine kernel. */
export function pktConditional(f: Tensor, eps = 1e-7): Tensor { return rowNormalise(cosineKernel(f, eps)); }

/** RepDistiller PKT: mean over B² of P_t·log((P_t+eps)/(P_s+eps)). */
export function pktLoss(student: Tensor, teacher: Tensor, eps = 1e-7): Tensor {
  const ps = pktConditional(student, eps);
  const pt = pktConditional(teacher, eps);
  return pt.mul(pt.add(eps).div(ps.add(eps)).log()).mean();
}

/** pkth divergences with a clamp inside the logs; 'combined' kernel = mean of the cosine and student-t terms. */
export function pktGeneral(student: Tensor, teacher: Tensor, kernel: PktKernel = 'combined', divergence: PktDivergence = 'jeffreys'): Tensor {
  const div = (ps: Tensor, pt: Tensor) => {
    if (divergence === 'kl') return pt.mul(pt.div(ps.add(1e-6)).add(1e-6).log()).mean();
    return pt.sub(ps).mul(pt.clampMin(1e-10).log().sub(ps.clampMin(1e-10).log())).mean();
  };
  const cos = () => div(rowNormalise(cosineKernel(student, 1e-7)), rowNormalise(cosineKernel(teacher, 1e-7)));
  const st = () => div(rowNormalise(studentTKernel(student)), rowNormalise(studentTKernel(teacher)));
  if (kernel === 'cosine') return cos();
  if (kernel === 'student_t') return st();
  return cos().add(st());
}
