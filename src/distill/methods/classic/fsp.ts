// FSP (Yim et al. CVPR 2017), as RepDistiller runs it (train_student.py, helper/pretrain.py,
// distiller_zoo/FSP.py): two trainings, one after the other.
//  1. The init phase: the student's feature modules alone (model_s.get_feat_modules(): all but the
//     classifier) minimise the plain sum of the FSP losses between consecutive taps (stem + stage
//     outputs, feat[:-1]), with their own SGD at a constant learning rate (opt.learning_rate 0.05,
//     momentum 0.9, wd 5e-4) for init_epochs (30), before and outside the main run.
//  2. The main run: CE alone (loops.py sets loss_kd = 0 for FSP, so β never applies), plus
//     α·KD if kdWeight > 0, under the run's own optimizer and schedule.
import { Distiller, DistillBatch, TrainOutput, Teacher, InitPhase, StepContext, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, nonNegativeInt, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { fspLoss, hintonKd } from '../../losses/classic';
import { Tensor } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher, penultimateSpec, stageSpec, tapFeatures, teacherForward, TapSpec } from './_common';

export interface FspOptions {
  initEpochs: number; initLr: number; initMomentum: number; initWeightDecay: number;
  ceWeight: number; kdWeight: number; temperature: number;
}

export class FSP extends Distiller {
  readonly method = 'fsp';
  private readonly sSpecs: TapSpec[]; private readonly tSpecs: TapSpec[];
  private readonly teacher: Classifier;
  /** the student's classifier module (excluded from the init phase, as get_feat_modules excludes fc) */
  readonly classifierPath: string;
  constructor(student: Classifier, teacher: Teacher, readonly o: FspOptions) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'fsp');
    const ss = student.stages(), ts = this.teacher.stages();
    if (ss.length !== ts.length || ss.some((s, i) => s.channels !== ts[i].channels)) {
      throw new Error(`fsp needs equal channel counts at every tapped stage: student [${ss.map((s) => s.channels)}], teacher [${ts.map((s) => s.channels)}]`);
    }
    this.sSpecs = ss.map((s) => stageSpec(s)); this.tSpecs = ts.map((s) => stageSpec(s));
    this.classifierPath = penultimateSpec(student).path;
  }

  /** The plain sum of FSP losses of the student's and the teacher's taps on x (no weight). */
  fspTerm(x: Tensor): { logits: Tensor; fsp: Tensor } {
    const { result: logits, feats } = tapFeatures(this.student, this.sSpecs, () => this.student.call(x) as Tensor);
    const t = teacherForward(this.teacher, this.tSpecs, x);
    return { logits, fsp: fspLoss(feats, t.feats) };
  }

  override initPhase(): InitPhase | null {
    const o = this.o;
    if (o.initEpochs === 0) return null;
    const prefix = `student.${this.classifierPath}.`;
    return {
      name: 'fsp init', epochs: o.initEpochs,
      sgd: { lr: o.initLr, momentum: o.initMomentum, weightDecay: o.initWeightDecay },
      student: this.student,
      namedParameters: () => [...this.namedParameters()].filter(([n, p]) => p.requiresGrad && !n.startsWith(prefix)),
      trainStep: (b: DistillBatch) => {
        const { logits, fsp } = this.fspTerm(b.x);
        return { logits, terms: { fsp } };
      },
    };
  }

  trainStep(b: DistillBatch, _ctx: StepContext): TrainOutput {
    const logits = this.student.call(b.x) as Tensor;
    const terms: Record<string, Tensor> = { ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight) };
    if (this.o.kdWeight > 0) terms.kd = hintonKd(logits, teacherLogits(this.teacher, b.x), this.o.temperature).mul(this.o.kdWeight);
    return { logits, terms };
  }
}

registerMethod({
  name: 'fsp',
  summary: 'FSP (RepDistiller): an init phase of initEpochs (30) training the feature modules on the plain sum of FSP losses (own SGD, constant lr 0.05), then CE (+ optional KD)',
  teachers: [1, 1],
  options: options({
    initEpochs: nonNegativeInt(30),
    // train_student.py: --learning_rate 0.05 (0.01 for MobileNet/ShuffleNet students), --momentum 0.9, --weight_decay 5e-4
    initLr: positive(0.05), initMomentum: nonNegative(0.9), initWeightDecay: nonNegative(5e-4),
    ceWeight: nonNegative(1), kdWeight: nonNegative(0), temperature: positive(4),
  }),
  create: (ctx, o) => new FSP(ctx.student, ctx.teachers[0], o),
});
