// KDCL ensemble teachers (Guo et al., CVPR 2020, "Online Knowledge Distillation via Collaborative Learning"). Each returns detached logits [B, K].
import { Tensor, F, stack, noGrad, zeros, tidy } from '../../../tensor';
import { hintonKd } from './logit';

export type KdclMode = 'naive' | 'linear' | 'minLogit';

/** MinLogit: every student's logits shifted so the target logit is 0; element-wise minimum over students. */
export function minLogitTeacher(logits: Tensor[], y: Tensor): Tensor {
  return noGrad(() => {
    const zs = stack(logits.map((z) => z.detach()));            // [m, B, K]
    const idx = y.reshape(1, -1, 1).expand(zs.shape[0], -1, 1);
    const shifted = zs.sub(zs.gather(2, idx));
    return shifted.min(0).values;
  });
}

/** Naive: per sample, the logits of the student with the lowest CE. */
export function naiveTeacher(logits: Tensor[], y: Tensor): Tensor {
  return noGrad(() => {
    const zs = stack(logits.map((z) => z.detach()));            // [m, B, K]
    const ce = stack(logits.map((z) => F.cross_entropy(z.detach(), y, { reduction: 'none' }))); // [m, B]
    const best = ce.argmin(0);                                   // [B]
    const idx = best.reshape(1, -1, 1).expand(1, -1, zs.shape[2]);
    return zs.gather(0, idx).squeeze(0);
  });
}

/** Linear: z_t = Σ w_i z_i with w on the simplex (softmax-parametrised) minimising CE, a few gradient steps. */
export function linearTeacher(logits: Tensor[], y: Tensor, steps = 20, lr = 0.5): Tensor {
  const zs = noGrad(() => stack(logits.map((z) => z.detach())));
  const a = zeros([zs.shape[0]]).requiresGrad_(true);
  for (let s = 0; s < steps; s++) {
    tidy(() => {
      const w = F.softmax(a, 0).reshape(-1, 1, 1);
      const loss = F.cross_entropy(zs.mul(w).sum(0), y);
      loss.backward();
      noGrad(() => { a.sub_(a.grad!.mul(lr)); });
      a.grad = null;
    });
  }
  const out = noGrad(() => zs.mul(F.softmax(a, 0).reshape(-1, 1, 1)).sum(0));
  a.dispose(); zs.dispose();
  return out;
}

export function ensembleTeacher(logits: Tensor[], y: Tensor, mode: KdclMode): Tensor {
  if (mode === 'minLogit') return minLogitTeacher(logits, y);
  if (mode === 'naive') return naiveTeacher(logits, y);
  if (mode === 'linear') return linearTeacher(logits, y);
  throw new Error(`kdcl: unknown ensemble mode '${mode}' (naive, linear, minLogit)`);
}

/** Σ_i T²·KL_batchmean(softmax(z_t/T) ‖ softmax(z_i/T)) with z_t the min-logit teacher (the golden 'kdcl_minlogit'). */
export function kdclMinLogitLoss(logits: Tensor[], y: Tensor, temperature: number): Tensor {
  const t = minLogitTeacher(logits, y);
  return logits.map((z) => hintonKd(z, t, temperature)).reduce((a, b) => a.add(b));
}
