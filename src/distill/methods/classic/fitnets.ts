// FitNets hints (Romero et al.; RepDistiller FitNet.py + ConvReg).
import { Distiller, DistillBatch, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, nonNegativeInt, options } from '../../options';
import { z } from 'zod';
import { classificationLoss } from '../../losses/common';
import { hintonKd } from '../../losses/classic';
import { Tensor, F } from '../../../tensor';
import { Module } from '../../../nn/module';
import { Conv2d, BatchNorm2d } from '../../../nn/layers';
import { kaimingUniform_, uniform_ } from '../../../nn/init';
import { empty } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher, selectStages, stageSpec, tapFeatures, teacherForward, probeShapes, TapSpec } from './_common';

/** torch.nn.ConvTranspose2d (weight [in, out, k, k]) with PyTorch's default init. */
export class ConvTranspose2d extends Module {
  readonly weight: Tensor; readonly bias: Tensor;
  constructor(cin: number, cout: number, k: number, readonly opts: { stride: number; padding: number }) {
    super();
    this.weight = this.param('weight', empty([cin, cout, k, k]));
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    this.bias = this.param('bias', empty([cout]));
    const bound = 1 / Math.sqrt(cout * k * k);
    uniform_(this.bias, -bound, bound);
  }
  forward(x: Tensor): Tensor { return F.conv_transpose2d(x, this.weight, this.bias, { stride: this.opts.stride, padding: this.opts.padding }); }
}

/** RepDistiller ConvReg: a conv picked by the spatial sizes, then BN + ReLU, student → teacher shape. */
export class ConvReg extends Module {
  readonly conv: Module; readonly bn: BatchNorm2d;
  constructor(s: number[], t: number[]) {
    super();
    const [, sC, sH, sW] = s; const [, tC, tH, tW] = t;
    let conv: Module;
    if (sH === 2 * tH) conv = new Conv2d(sC, tC, 3, { stride: 2, padding: 1 });
    else if (sH * 2 === tH) conv = new ConvTranspose2d(sC, tC, 4, { stride: 2, padding: 1 });
    else if (sH >= tH) conv = new Conv2d(sC, tC, [1 + sH - tH, 1 + sW - tW]);
    else throw new Error(`fitnets: cannot regress a ${sH}×${sW} student map to a ${tH}×${tW} teacher map`);
    this.conv = this.module('conv', conv);
    this.bn = this.module('bn', new BatchNorm2d(tC));
  }
  forward(x: Tensor): Tensor { return F.relu(this.bn.call(this.conv.call(x))); }
}

export interface FitNetsOptions { hintLayer: number; hintWeight: number; ceWeight: number; kdWeight: number; temperature: number; hintSteps: number }

export class FitNets extends Distiller {
  readonly method = 'fitnets';
  readonly regressor: ConvReg;
  private readonly sSpec: TapSpec; private readonly tSpec: TapSpec;
  private readonly teacher: Classifier;
  constructor(student: Classifier, teacher: Teacher, readonly o: FitNetsOptions, inChans: number, imgSize: number) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'fitnets');
    this.sSpec = stageSpec(selectStages(student, [o.hintLayer])[0]);
    this.tSpec = stageSpec(selectStages(this.teacher, [o.hintLayer])[0]);
    const [s] = probeShapes(student, [this.sSpec], inChans, imgSize);
    const [t] = probeShapes(this.teacher, [this.tSpec], inChans, imgSize);
    this.regressor = this.module('regressor', new ConvReg(s, t));
  }
  trainStep(b: DistillBatch, ctx: { step: number }): TrainOutput {
    const { result: logits, feats: [fs] } = tapFeatures(this.student, [this.sSpec], () => this.student.call(b.x) as Tensor);
    const t = teacherForward(this.teacher, [this.tSpec], b.x);
    const hint = F.mse_loss(this.regressor.call(fs), t.feats[0]).mul(this.o.hintWeight);
    // two-stage (paper): the first hintSteps steps train on the hint alone
    if (ctx.step < this.o.hintSteps) return { logits, terms: { hint } };
    const terms: Record<string, Tensor> = { ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight), hint };
    if (this.o.kdWeight > 0) terms.kd = hintonKd(logits, t.logits, this.o.temperature).mul(this.o.kdWeight);
    return { logits, terms };
  }
}

registerMethod({
  name: 'fitnets',
  summary: 'FitNets hints: ConvReg(student stage) ≈ teacher stage by MSE (β 100, hint layer 2); hintSteps>0 gives the two-stage form',
  teachers: [1, 1],
  options: options({
    hintLayer: z.number({ invalid_type_error: 'expected a number' }).int('expected an integer stage index').default(2),
    hintWeight: nonNegative(100), ceWeight: nonNegative(1), kdWeight: nonNegative(0), temperature: positive(4), hintSteps: nonNegativeInt(0),
  }),
  create: (ctx, o) => new FitNets(ctx.student, ctx.teachers[0], o, ctx.inChans, ctx.imgSize),
});
