// Similarity-preserving KD (Tung & Mori, ICCV 2019; RepDistiller SP.py): CE + β·Σ_layers SP (β 3000, last stage by default).
import { Distiller, DistillBatch, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { nonNegative, stageList, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { spLoss } from '../../losses/classic';
import { Tensor } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher, selectStages, stageSpec, tapFeatures, teacherForward, TapSpec } from './_common';

export class SimilarityPreserving extends Distiller {
  readonly method = 'sp';
  private readonly sSpecs: TapSpec[]; private readonly tSpecs: TapSpec[];
  private readonly teacher: Classifier;
  constructor(student: Classifier, teacher: Teacher, readonly o: { beta: number; ceWeight: number; layers: number[] }) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'sp');
    this.sSpecs = selectStages(student, o.layers).map((s) => stageSpec(s));
    this.tSpecs = selectStages(this.teacher, o.layers).map((s) => stageSpec(s));
  }
  trainStep(b: DistillBatch): TrainOutput {
    const { result: logits, feats } = tapFeatures(this.student, this.sSpecs, () => this.student.call(b.x) as Tensor);
    const t = teacherForward(this.teacher, this.tSpecs, b.x);
    const sp = feats.map((f, i) => spLoss(f, t.feats[i])).reduce((a, c) => a.add(c)).mul(this.o.beta);
    return { logits, terms: { ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight), sp } };
  }
}

registerMethod({
  name: 'sp',
  summary: 'similarity-preserving KD on the last stage output: CE + β·‖G_t − G_s‖²/B² (β 3000)',
  teachers: [1, 1],
  options: options({ beta: nonNegative(3000), ceWeight: nonNegative(1), layers: stageList().min(1, 'expected at least one stage').default([-1]) }),
  create: (ctx, o) => new SimilarityPreserving(ctx.student, ctx.teachers[0], o),
});
