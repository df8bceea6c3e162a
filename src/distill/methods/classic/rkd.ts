// Relational KD (Park et al. CVPR 2019; RepDistiller RKD.py): CE + β·(25·distance + 50·angle) on the penultimate features.
import { Distiller, DistillBatch, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { nonNegative, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { rkdTerms } from '../../losses/classic';
import { Tensor } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher, penultimateSpec, tapFeatures, teacherForward, TapSpec } from './_common';

export class RelationalKD extends Distiller {
  readonly method = 'rkd';
  private readonly sSpec: TapSpec; private readonly tSpec: TapSpec;
  private readonly teacher: Classifier;
  constructor(student: Classifier, teacher: Teacher, readonly o: { beta: number; wDist: number; wAngle: number; ceWeight: number }) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'rkd');
    this.sSpec = penultimateSpec(student); this.tSpec = penultimateSpec(this.teacher);
  }
  trainStep(b: DistillBatch): TrainOutput {
    const { result: logits, feats: [fs] } = tapFeatures(this.student, [this.sSpec], () => this.student.call(b.x) as Tensor);
    const t = teacherForward(this.teacher, [this.tSpec], b.x);
    const { distance, angle } = rkdTerms(fs, t.feats[0]);
    return {
      logits,
      terms: {
        ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight),
        rkd_distance: distance.mul(this.o.beta * this.o.wDist),
        rkd_angle: angle.mul(this.o.beta * this.o.wAngle),
      },
    };
  }
}

registerMethod({
  name: 'rkd',
  summary: 'relational KD on penultimate features: CE + β·(wDist·L_D + wAngle·L_A) (25, 50); O(B³) memory',
  teachers: [1, 1],
  options: options({ beta: nonNegative(1), wDist: nonNegative(25), wAngle: nonNegative(50), ceWeight: nonNegative(1) }),
  create: (ctx, o) => new RelationalKD(ctx.student, ctx.teachers[0], o),
});
