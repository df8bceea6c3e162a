// Data-free synthesis regularisers: DeepInversion R_feature and image priors, the ADI competition
// term (NVlabs/DeepInversion), and the Knowledge-Within Gaussian-KL BN statistic (Yin et al. CVPR 2020; NVlabs/DeepInversion).
import { Tensor, F } from '../../../tensor';

/** Batch mean and biased variance over (N, H, W) of a [N, C, H, W] BN input. */
export function batchChannelStats(x: Tensor): { mean: Tensor; var: Tensor } {
  const c = x.shape[1];
  const flat = x.transpose(0, 1).reshape(c, -1);
  return { mean: flat.mean(1), var: flat.var(1, { unbiased: false }) };
}

/** DeepInversion: ‖running_var - var‖₂ + ‖running_mean - mean‖₂ (non-squared norms). */
export function bnStatisticsLoss(features: Tensor, runningMean: Tensor, runningVar: Tensor): Tensor {
  const { mean, var: v } = batchChannelStats(features);
  return runningVar.sub(v).norm(2).add(runningMean.sub(mean).norm(2));
}

/** Knowledge Within: Σ_c KL(N(μ̂, σ̂²) ‖ N(μ, σ²)) = log(σ/σ̂) + (σ̂² + (μ̂-μ)²)/(2σ²) - ½. */
export function bnGaussianKl(features: Tensor, runningMean: Tensor, runningVar: Tensor, eps = 1e-5): Tensor {
  const { mean, var: v } = batchChannelStats(features);
  const rv = runningVar.add(eps), bv = v.add(eps);
  return rv.div(bv).log().mul(0.5).add(bv.add(mean.sub(runningMean).pow(2)).div(rv.mul(2))).sub(0.5).sum();
}

/** DeepInversion total-variation priors over four neighbour directions. */
export function imagePriorTv(images: Tensor): { l1: Tensor; l2: Tensor } {
  const [, , H, W] = images.shape;
  const d1 = images.narrow(3, 0, W - 1).sub(images.narrow(3, 1, W - 1));
  const d2 = images.narrow(2, 0, H - 1).sub(images.narrow(2, 1, H - 1));
  const d3 = images.narrow(2, 1, H - 1).narrow(3, 0, W - 1).sub(images.narrow(2, 0, H - 1).narrow(3, 1, W - 1));
  const d4 = images.narrow(2, 0, H - 1).narrow(3, 0, W - 1).sub(images.narrow(2, 1, H - 1).narrow(3, 1, W - 1));
  const ds = [d1, d2, d3, d4];
  return {
    l2: ds.map((d) => d.norm(2)).reduce((a, b) => a.add(b)),
    l1: ds.map((d) => d.abs().mean()).reduce((a, b) => a.add(b)),
  };
}

/** ADI competition: 1 - clamp(JS'(P_s, P_t), 0, 1) with clamped probabilities, KL batchmean. */
export function adiCompetition(student: Tensor, teacher: Tensor, temperature = 3): Tensor {
  let P = F.softmax(student.div(temperature), 1);
  let Q = F.softmax(teacher.div(temperature), 1);
  let M = P.add(Q).mul(0.5);
  P = P.clamp(0.01, 0.99); Q = Q.clamp(0.01, 0.99); M = M.clamp(0.01, 0.99);
  const js = F.kl_div(P.log(), M, { reduction: 'batchmean' }).mul(0.5).add(F.kl_div(Q.log(), M, { reduction: 'batchmean' }).mul(0.5));
  return js.clamp(0, 1).rsub(1);
}
