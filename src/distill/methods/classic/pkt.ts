// PKT (Passalis & Tefas, ECCV 2018; RepDistiller PKT.py): CE + β·PKT on the penultimate features (β 30000, RepDistiller cosine/KL form).
import { Distiller, DistillBatch, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, oneOf, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { pktLoss, pktGeneral, PktKernel, PktDivergence } from '../../losses/classic';
import { Tensor } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher, penultimateSpec, tapFeatures, teacherForward, TapSpec } from './_common';

export class PKT extends Distiller {
  readonly method = 'pkt';
  private readonly sSpec: TapSpec; private readonly tSpec: TapSpec;
  private readonly teacher: Classifier;
  constructor(student: Classifier, teacher: Teacher, readonly o: { beta: number; ceWeight: number; kernel: PktKernel | 'repdistiller'; divergence: PktDivergence }) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'pkt');
    this.sSpec = penultimateSpec(student); this.tSpec = penultimateSpec(this.teacher);
  }
  trainStep(b: DistillBatch): TrainOutput {
    const { result: logits, feats: [fs] } = tapFeatures(this.student, [this.sSpec], () => this.student.call(b.x) as Tensor);
    const t = teacherForward(this.teacher, [this.tSpec], b.x);
    const l = this.o.kernel === 'repdistiller' ? pktLoss(fs, t.feats[0]) : pktGeneral(fs, t.feats[0], this.o.kernel, this.o.divergence);
    return { logits, terms: { ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight), pkt: l.mul(this.o.beta) } };
  }
}

registerMethod({
  name: 'pkt',
  summary: "probabilistic KT on penultimate features: CE + β·PKT (β 30000; kernel 'repdistiller' or pkth's cosine/student_t/combined)",
  teachers: [1, 1],
  options: options({
    beta: nonNegative(30000), ceWeight: nonNegative(1),
    kernel: oneOf(['repdistiller', 'cosine', 'student_t', 'combined'], 'repdistiller'), divergence: oneOf(['kl', 'jeffreys'], 'kl'),
  }),
  create: (ctx, o) => new PKT(ctx.student, ctx.teachers[0], o),
});
