// Attention transfer (Zagoruyko & Komodakis, ICLR 2017; RepDistiller AT.py): CE + β·Σ_stages AT loss (β 1000, p 2; 'code' form by default).
import { Distiller, DistillBatch, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, oneOf, stageList, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { atLoss } from '../../losses/classic';
import { Tensor } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher, selectStages, stageSpec, tapFeatures, teacherForward, TapSpec } from './_common';

export class AttentionTransfer extends Distiller {
  readonly method = 'at';
  private readonly sSpecs: TapSpec[]; private readonly tSpecs: TapSpec[];
  private readonly teacher: Classifier;
  constructor(student: Classifier, teacher: Teacher, readonly o: { beta: number; p: number; ceWeight: number; layers: number[] | null; form: 'code' | 'paper' }) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'at');
    const ss = selectStages(student, o.layers), ts = selectStages(this.teacher, o.layers);
    const n = Math.min(ss.length, ts.length);
    this.sSpecs = ss.slice(ss.length - n).map((s) => stageSpec(s));
    this.tSpecs = ts.slice(ts.length - n).map((s) => stageSpec(s));
  }
  trainStep(b: DistillBatch): TrainOutput {
    const { result: logits, feats } = tapFeatures(this.student, this.sSpecs, () => this.student.call(b.x) as Tensor);
    const t = teacherForward(this.teacher, this.tSpecs, b.x);
    const scale = this.o.form === 'paper' ? this.o.beta / 2 : this.o.beta;
    const at = feats.map((f, i) => atLoss(f, t.feats[i], this.o.p, this.o.form)).reduce((a, c) => a.add(c)).mul(scale);
    return { logits, terms: { ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight), at } };
  }
}

registerMethod({
  name: 'at',
  summary: 'attention transfer on every stage output: CE + β·Σ mean((a_s − a_t)²) (β 1000, p 2)',
  teachers: [1, 1],
  options: options({
    beta: nonNegative(1000), p: positive(2), ceWeight: nonNegative(1),
    layers: stageList().min(1, 'expected at least one stage (or null for all)').nullable().default(null), form: oneOf(['code', 'paper'], 'code'),
  }),
  create: (ctx, o) => new AttentionTransfer(ctx.student, ctx.teachers[0], o),
});
