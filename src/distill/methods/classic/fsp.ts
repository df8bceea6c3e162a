// FSP (Yim et al. CVPR 2017; RepDistiller FSP.py), RepDistiller's two stages: the first `initSteps` steps train on β·FSP alone
// (stem + stage outputs, consecutive pairs), then CE (+ optional KD).
import { Distiller, DistillBatch, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, nonNegativeInt, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { fspLoss, hintonKd } from '../../losses/classic';
import { Tensor } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher, stageSpec, tapFeatures, teacherForward, TapSpec } from './_common';

export class FSP extends Distiller {
  readonly method = 'fsp';
  private readonly sSpecs: TapSpec[]; private readonly tSpecs: TapSpec[];
  private readonly teacher: Classifier;
  constructor(student: Classifier, teacher: Teacher, readonly o: { beta: number; initEpochs: number; initSteps: number | null; ceWeight: number; kdWeight: number; temperature: number }) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'fsp');
    const ss = student.stages(), ts = this.teacher.stages();
    if (ss.length !== ts.length || ss.some((s, i) => s.channels !== ts[i].channels)) {
      throw new Error(`fsp needs equal channel counts at every tapped stage: student [${ss.map((s) => s.channels)}], teacher [${ts.map((s) => s.channels)}]`);
    }
    this.sSpecs = ss.map((s) => stageSpec(s)); this.tSpecs = ts.map((s) => stageSpec(s));
  }
  trainStep(b: DistillBatch, ctx: { step: number; epoch: number }): TrainOutput {
    const { result: logits, feats } = tapFeatures(this.student, this.sSpecs, () => this.student.call(b.x) as Tensor);
    const t = teacherForward(this.teacher, this.tSpecs, b.x);
    if (this.o.initSteps != null ? ctx.step < this.o.initSteps : ctx.epoch < this.o.initEpochs) return { logits, terms: { fsp: fspLoss(feats, t.feats).mul(this.o.beta) } };
    const terms: Record<string, Tensor> = { ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight) };
    if (this.o.kdWeight > 0) terms.kd = hintonKd(logits, t.logits, this.o.temperature).mul(this.o.kdWeight);
    return { logits, terms };
  }
}

registerMethod({
  name: 'fsp',
  summary: 'FSP: β·FSP-matrix matching for initEpochs (30) or initSteps, β 50, then CE (+ optional KD)',
  teachers: [1, 1],
  options: options({
    beta: nonNegative(50), initEpochs: nonNegative(30), initSteps: nonNegativeInt(0).nullable().default(null),
    ceWeight: nonNegative(1), kdWeight: nonNegative(0), temperature: positive(4),
  }),
  create: (ctx, o) => new FSP(ctx.student, ctx.teachers[0], o),
});
