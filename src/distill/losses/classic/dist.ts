// DIST (Huang et al. NeurIPS 2022, "Knowledge distillation from a stronger teacher"; hunto/DIST_KD,
// hunto/image_classification_sota lib/models/losses/dist_kd.py): relations instead of exact
// probabilities. On y = softmax(z/T): the inter-class relation is 1 - the mean over samples of the
// Pearson correlation between a student row and the teacher row (across classes); the intra-class
// relation is the same on the transposed matrices (per class, across the batch). Each is scaled by T².
import { Tensor, F } from '../../../tensor';

/** Pearson correlation of matching rows: the cosine of the mean-centred rows, with the official
 *  eps 1e-8 added to the product of the norms (not to each norm). Returns one value per row. */
export function rowPearson(a: Tensor, b: Tensor, eps = 1e-8): Tensor {
  const ac = a.sub(a.mean(1, true)), bc = b.sub(b.mean(1, true));
  return ac.mul(bc).sum(1).div(ac.norm(2, 1).mul(bc.norm(2, 1)).add(eps));
}

/** The two DIST terms, each already × T² (unweighted by β, γ). */
export function distTerms(student: Tensor, teacher: Tensor, temperature: number): { inter: Tensor; intra: Tensor } {
  const T = temperature;
  const ys = F.softmax(student.div(T), 1), yt = F.softmax(teacher.div(T), 1);
  const inter = rowPearson(ys, yt).mean().rsub(1).mul(T * T);
  const intra = rowPearson(ys.t(), yt.t()).mean().rsub(1).mul(T * T);
  return { inter, intra };
}

/** β·T²·inter + γ·T²·intra (the official DIST loss with tau = T). */
export function distLoss(student: Tensor, teacher: Tensor, o: { beta: number; gamma: number; temperature: number }): Tensor {
  const { inter, intra } = distTerms(student, teacher.detach(), o.temperature);
  return inter.mul(o.beta).add(intra.mul(o.gamma));
}
