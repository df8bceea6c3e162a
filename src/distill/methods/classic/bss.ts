// BSS: boundary supporting samples (Heo et al. AAAI 2019; bhheo/BSS_distillation).
// Each step: CE + ratio·softCE_T(z_t, z_s) + ratioAttack·softCE_T on adversarial samples that move
// inputs the teacher classifies correctly across the teacher's boundary toward a sampled class.
// (methods.md's first version said samples both nets classify correctly; the official code uses the teacher alone.)
import { Distiller, DistillBatch, StepContext, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, count, nonNegativeInt, options } from '../../options';
import { softCrossEntropyT } from '../../losses/classic';
import { Tensor, F, noGrad, grad, fromTypedArray, tidy, keep } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher } from './_common';
import { Rng } from '../../../util/rng';

export interface BssOptions { temperature: number; attackSize: number; numSteps: number; stepAlpha: number; clamp: number; seed: number }

export class BSS extends Distiller {
  readonly method = 'bss';
  private readonly teacher: Classifier;
  private readonly rng: Rng;
  constructor(student: Classifier, teacher: Teacher, readonly o: BssOptions) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'bss');
    this.rng = new Rng(o.seed);
  }

  /** The base samples of the attack: those the TEACHER classifies correctly (official
   *  train_BSS_distillation.py: `attack_flag = targets == t_net.out.sort(...)[1][:, 0]`, the
   *  teacher's top-1 alone; the student's prediction plays no part). When more than attackSize
   *  remain, the attackSize with the largest Σ_{k≠y}(p_t − p_s)² (softmax at T 1), as there;
   *  otherwise all of them in batch order. */
  selectBase(zs: Tensor, zt: Tensor, y: Tensor): number[] {
    return noGrad(() => tidy(() => {
      const ps = F.softmax(zs.detach(), 1), pt = F.softmax(zt, 1);
      const ok = zt.argmax(1).eq(y);
      const oh = F.one_hot(y, zs.shape[1]).to(ps.dtype);
      const score = pt.sub(ps).pow(2).mul(oh.rsub(1)).sum(1);
      const okA = ok.toTypedArray() as unknown as ArrayLike<number | boolean>, sc = score.toTypedArray() as Float32Array;
      const idx: number[] = [];
      for (let i = 0; i < sc.length; i++) if (okA[i]) idx.push(i);
      if (idx.length <= this.o.attackSize) return idx;
      idx.sort((a, b) => sc[b] - sc[a]);
      return idx.slice(0, this.o.attackSize);
    }));
  }

  /** The attack on the teacher (eval mode): DeepFool-like L2 steps toward a sampled non-top-1 class. */
  attack(x: Tensor): Tensor {
    const B = x.shape[0];
    const pt = noGrad(() => F.softmax(this.teacher.call(x), 1));
    const sorted = pt.sort(1, true);
    const probs = sorted.values.toTypedArray() as Float32Array, cls = sorted.indices.toTypedArray() as BigInt64Array;
    const K = pt.shape[1];
    const gtArr = new BigInt64Array(B), tgArr = new BigInt64Array(B);
    for (let b = 0; b < B; b++) {
      gtArr[b] = cls[b * K];
      // sample among classes 2..K proportionally to the teacher probability (cumsum · rand)
      let sum = 0; for (let k = 1; k < K; k++) sum += probs[b * K + k];
      let r = this.rng.next() * sum, pick = 1;
      for (let k = 1; k < K; k++) { r -= probs[b * K + k]; if (r <= 0) { pick = k; break; } pick = k; }
      tgArr[b] = cls[b * K + pick];
    }
    const gt = fromTypedArray(gtArr).reshape(-1, 1), tg = fromTypedArray(tgArr).reshape(-1, 1);
    let xa = keep(x.detach().clone());
    for (let s = 0; s < this.o.numSteps; s++) {
      const next = tidy(() => {
        const xi = xa.detach().requiresGrad_(true);
        const z = this.teacher.call(xi) as Tensor;
        const zg = z.gather(1, gt), zt = z.gather(1, tg);
        const still = z.argmax(1, true).eq(gt);
        const [g] = grad(zt.sub(zg).sum(), xi);
        const gn = g!.reshape(B, -1).norm(2, 1).reshape(B, 1, 1, 1).clampMin(1e-12);
        const scale = zg.sub(zt).add(1e-4).detach().mul(still.to(z.dtype)).mul(this.o.stepAlpha).reshape(B, 1, 1, 1);
        const stop = still.sum().item() === 0;
        return { x: keep(xi.detach().add(scale.mul(g!).div(gn)).clamp(-this.o.clamp, this.o.clamp)), stop };
      });
      xa.dispose(); xa = next.x;
      if (next.stop) break;
    }
    return xa;
  }

  trainStep(b: DistillBatch, ctx: StepContext): TrainOutput {
    const T = this.o.temperature;
    const e = ctx.epoch + 1, E = Math.max(1, ctx.totalEpochs);
    const ratio = Math.max(3 * (1 - e / E), 0) + 1;
    const ratioAttack = Math.max(2 * (1 - (4 / 3) * e / E), 0);
    const logits = this.student.call(b.x) as Tensor;
    const zt = noGrad(() => this.teacher.call(b.x) as Tensor);
    const terms: Record<string, Tensor> = {
      ce: F.cross_entropy(logits, b.y),
      kd: softCrossEntropyT(logits, zt, T).mul(ratio),
    };
    if (ratioAttack > 0) {
      const base = this.selectBase(logits, zt, b.y);
      if (base.length > 0) {
        const xb = b.x.indexSelect(0, fromTypedArray(Int32Array.from(base)).to('int64'));
        const xa = this.attack(xb);
        const zta = noGrad(() => this.teacher.call(xa) as Tensor);
        terms.bss = softCrossEntropyT(this.student.call(xa) as Tensor, zta, T).mul(ratioAttack);
      }
    }
    return { logits, terms };
  }
}

registerMethod({
  name: 'bss',
  summary: 'boundary supporting samples: CE + ratio·softCE_T + ratioAttack·softCE_T on teacher-adversarial samples (T 3, 64 samples, 10 L2 steps of 0.3)',
  teachers: [1, 1],
  options: options({
    temperature: positive(3), attackSize: count(64), numSteps: nonNegativeInt(10), stepAlpha: positive(0.3), clamp: positive(2.5), seed: nonNegativeInt(0),
  }),
  create: (ctx, o) => new BSS(ctx.student, ctx.teachers[0], o),
});
