// Losses of the cross-architecture methods (Co-advise, DeiT, CSKD, OFA; see docs/crossarch.md), as pure functions of logits.
// log_softmax is used where the official code takes the log of a softmax: same values, stable.
import { Tensor, F, tidy } from '../../tensor';
import { hintonKd } from './common';

/** Co-advise (OliverRensu/co-advise main.py): CE(cls) + T²·KL_bm(conv ‖ CNN) + T²·KL_bm(inv ‖ INN). Returns the three terms.
 *  CE: soft-target CE with mixup, otherwise CE with label smoothing (main.py's default 0.1; 0 here for the golden case). */
export function coadviseTerms(h: { cls: Tensor; conv: Tensor; inv: Tensor }, y: Tensor, cnn: Tensor, inn: Tensor, T = 1, soft?: Tensor, labelSmoothing = 0): { ce: Tensor; kd_conv: Tensor; kd_inv: Tensor } {
  const kl = (s: Tensor, t: Tensor) => hintonKd(s, t, T);
  const ce = soft ? soft.neg().mul(F.log_softmax(h.cls, -1)).sum(-1).mean() : F.cross_entropy(h.cls, y, { label_smoothing: labelSmoothing });
  return { ce, kd_conv: kl(h.conv, cnn), kd_inv: kl(h.inv, inn) };
}

/** DeiT soft: T²·Σ KL(softmax(t/T) ‖ softmax(s/T)) / (B·K) — divided by numel, as facebookresearch/deit. */
export function deitSoft(student: Tensor, teacher: Tensor, T: number): Tensor {
  return F.kl_div(F.log_softmax(student.div(T), 1), F.log_softmax(teacher.div(T), 1), { reduction: 'sum', log_target: true }).mul(T * T / student.numel());
}

/** DeiT hard: CE against the teacher's argmax. */
export function deitHard(student: Tensor, teacher: Tensor): Tensor {
  return F.cross_entropy(student, teacher.argmax(1));
}

export type CskdDecay = 'linear' | 'x2' | 'cos';

/** CKF ratio r(e) = decay(epoch / maxEpoch). */
export function cskdRatio(epoch: number, maxEpoch: number, decay: CskdDecay): number {
  const x = epoch / maxEpoch;
  if (decay === 'linear') return 1 - x;
  if (decay === 'x2') return (1 - x) ** 2;
  if (decay === 'cos') return Math.cos(Math.PI * 0.5 * x);
  throw new RangeError(`cskd: decay must be 'linear', 'x2' or 'cos', got '${decay}'`);
}

/**
 * CSKD dense term (Zzzzz1/CSKD cskd.py). studentDense [N, M, K] laid on grid [gh, gw] and
 * average-pooled to the teacher's [th, tw] (kernel = grid ratio when it divides; adaptive
 * pooling otherwise); teacherDense [N, K, th, tw]. Target = r·dense + (1-r)·global.
 */
export function cskdDense(studentDense: Tensor, teacherDense: Tensor, grid: [number, number], o: { epoch: number; maxEpoch: number; decay: CskdDecay; lossType: 'hard' | 'soft'; temperature: number }): Tensor {
  const [N, M, K] = studentDense.shape;
  const [gh, gw] = grid;
  if (gh * gw !== M) throw new Error(`cskd: ${M} student positions do not fill a ${gh}×${gw} grid`);
  const [th, tw] = teacherDense.shape.slice(2);
  let s = studentDense.permute(0, 2, 1).reshape(N, K, gh, gw);
  s = gh % th === 0 && gw % tw === 0 ? F.avg_pool2d(s, [gh / th, gw / tw], { stride: [gh / th, gw / tw] }) : F.adaptive_avg_pool2d(s, [th, tw]);
  const r = cskdRatio(o.epoch, o.maxEpoch, o.decay);
  const g = teacherDense.mean([2, 3]).reshape(N, K, 1, 1);
  const t = teacherDense.mul(r).add(g.mul(1 - r));
  if (o.lossType === 'hard') return F.cross_entropy(s, t.argmax(1));
  const T = o.temperature;
  return F.kl_div(F.log_softmax(s.div(T), 1), F.log_softmax(t.div(T), 1), { reduction: 'sum', log_target: true }).mul(T * T / N);
}

/** OFA (Hao840/OFAKD): mean over the batch of -Σ_c ((p_t + y)^eps - y) · log p_s, y the one-hot target. */
export function ofaLoss(student: Tensor, teacher: Tensor, target: Tensor, eps: number, T = 1): Tensor {
  return tidy(() => {
    const K = student.shape[1];
    const y = target.dim() === 2 ? F.one_hot(target.argmax(1), K).to(student.dtype) : F.one_hot(target, K).to(student.dtype);
    const pt = F.softmax(teacher.div(T), 1);
    const w = pt.add(y).pow(eps).sub(y);
    return w.neg().mul(F.log_softmax(student.div(T), 1)).sum(-1).mean();
  });
}
