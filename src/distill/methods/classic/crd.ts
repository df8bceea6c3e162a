// Contrastive representation distillation (Tian et al.; RepDistiller crd/).
// memory 'bank': two [N_data, dim] memories indexed by dataset index (batch.indices required),
// negatives drawn from other classes when the labels are known ('exact'), else uniformly.
// memory 'queue': a FIFO of the last nceK embeddings of each side (no indices needed).
// Data-parallel runs (train/ddp.ts): the memories are per rank, not gathered: each rank updates
// the rows (or enqueues the embeddings) of its own samples and draws negatives from its own copy.
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, probability, count, nonNegativeInt, oneOf, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { nceLoss, hintonKd } from '../../losses/classic';
import { Tensor, F, noGrad, rand, fromTypedArray, cat } from '../../../tensor';
import { Module } from '../../../nn/module';
import { Linear } from '../../../nn/layers';
import type { Classifier } from '../../../models/registry';
import { Rng } from '../../../util/rng';
import { classifierTeacher, penultimateSpec, tapFeatures, teacherForward, probeShapes, TapSpec } from './_common';

export class Embed extends Module {
  readonly linear: Linear;
  constructor(dIn: number, dOut: number) { super(); this.linear = this.module('linear', new Linear(dIn, dOut)); }
  forward(x: Tensor): Tensor { return F.normalize(this.linear.call(x.reshape(x.shape[0], -1))); }
}

export interface CrdOptions {
  featDim: number; nceK: number; nceT: number; nceM: number; beta: number; ceWeight: number; kdWeight: number; temperature: number;
  memory: 'bank' | 'queue'; numData: number | null; mode: 'exact' | 'relax'; seed: number;
}

export class CRD extends Distiller {
  readonly method = 'crd';
  readonly embedS: Embed; readonly embedT: Embed;
  private readonly sSpec: TapSpec; private readonly tSpec: TapSpec;
  private readonly teacher: Classifier;
  private memS: Tensor | null = null; private memT: Tensor | null = null;   // bank: student / teacher memories
  private qPtr = 0; private qFill = 0;
  private zS = -1; private zT = -1;
  private labels: Int32Array | null = null; private byClass: number[][] | null = null;
  private readonly rng: Rng;
  constructor(student: Classifier, teacher: Teacher, readonly o: CrdOptions, inChans: number, imgSize: number) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'crd');
    this.sSpec = penultimateSpec(student); this.tSpec = penultimateSpec(this.teacher);
    const [s] = probeShapes(student, [this.sSpec], inChans, imgSize);
    const [t] = probeShapes(this.teacher, [this.tSpec], inChans, imgSize);
    this.embedS = this.module('embed_s', new Embed(s.slice(1).reduce((a, c) => a * c, 1), o.featDim));
    this.embedT = this.module('embed_t', new Embed(t.slice(1).reduce((a, c) => a * c, 1), o.featDim));
    this.rng = new Rng(o.seed);
    const n = o.memory === 'bank' ? o.numData : o.nceK;
    if (!n) throw new Error("crd: memory 'bank' needs numData (the training-set size)");
    const stdv = 1 / Math.sqrt(o.featDim / 3);
    this.memS = this.buffer('memory_s', rand([n, o.featDim]).mul(2 * stdv).sub(stdv), false);
    this.memT = this.buffer('memory_t', rand([n, o.featDim]).mul(2 * stdv).sub(stdv), false);
  }
  /** Dataset labels, for 'exact' negatives from other classes / 'relax' positives. */
  setLabels(labels: Int32Array): this {
    this.labels = labels;
    const by: number[][] = [];
    labels.forEach((c, i) => (by[c] ??= []).push(i));
    this.byClass = by;
    return this;
  }
  private sampleIdx(indices: Int32Array): Tensor {
    const K = this.o.nceK, N = this.o.numData!;
    const out = new Int32Array(indices.length * (K + 1));
    indices.forEach((i, b) => {
      let pos = i;
      if (this.o.mode === 'relax' && this.labels) { const same = this.byClass![this.labels[i]]; pos = same[this.rng.int(same.length)]; }
      out[b * (K + 1)] = pos;
      for (let k = 1; k <= K; k++) {
        let j = this.rng.int(N);
        if (this.labels) { let guard = 0; while (this.labels[j] === this.labels[i] && guard++ < 100) j = this.rng.int(N); }
        out[b * (K + 1) + k] = j;
      }
    });
    return fromTypedArray(out, [indices.length, K + 1]).to('int64');
  }
  trainStep(b: DistillBatch): TrainOutput {
    const { result: logits, feats: [fs] } = tapFeatures(this.student, [this.sSpec], () => this.student.call(b.x) as Tensor);
    const t = teacherForward(this.teacher, [this.tSpec], b.x);
    const vS = this.embedS.call(fs), vT = this.embedT.call(t.feats[0]);
    const B = vS.shape[0], D = this.o.featDim, tau = this.o.nceT;
    let wS: Tensor, wT: Tensor, nData: number;    // [B, K+1, D] weights from the teacher/student memories
    if (this.o.memory === 'bank') {
      if (!b.indices) throw new Error("crd (memory 'bank') needs batch.indices (dataset indices of the samples)");
      const idx = this.sampleIdx(b.indices).reshape(-1);
      wT = this.memT!.indexSelect(0, idx).reshape(B, -1, D).detach();
      wS = this.memS!.indexSelect(0, idx).reshape(B, -1, D).detach();
      nData = this.o.numData!;
    } else {
      // queue: the positive is the other side's current embedding, negatives the queued ones
      const K = Math.max(1, Math.min(this.qFill, this.o.nceK));
      const negT = this.memT!.narrow(0, 0, K).detach(), negS = this.memS!.narrow(0, 0, K).detach();
      wT = cat([vT.detach().unsqueeze(1), negT.unsqueeze(0).expand(B, K, D)], 1);
      wS = cat([vS.detach().unsqueeze(1), negS.unsqueeze(0).expand(B, K, D)], 1);
      nData = Math.max(this.o.nceK, K + 1);
    }
    let outS = wT.bmm(vS.unsqueeze(2)).squeeze(2).div(tau).exp();     // student anchor vs teacher memory
    let outT = wS.bmm(vT.unsqueeze(2)).squeeze(2).div(tau).exp();     // teacher anchor vs student memory
    if (this.zS < 0) { this.zS = noGrad(() => outS.mean().item()) * nData; this.zT = noGrad(() => outT.mean().item()) * nData; }
    outS = outS.div(this.zS); outT = outT.div(this.zT);
    const crd = nceLoss(outS, nData).add(nceLoss(outT, nData)).mul(this.o.beta);
    this.updateMemory(b.indices, vS, vT);
    const terms: Record<string, Tensor> = { ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight), crd };
    if (this.o.kdWeight > 0) terms.kd = hintonKd(logits, teacherLogits(this.teacher, b.x), this.o.temperature).mul(this.o.kdWeight);
    return { logits, terms };
  }
  private updateMemory(indices: Int32Array | undefined, vS: Tensor, vT: Tensor): void {
    noGrad(() => {
      const m = this.o.nceM;
      if (this.o.memory === 'bank') {
        const idx = fromTypedArray(indices!).to('int64');
        for (const [mem, v] of [[this.memS!, vS], [this.memT!, vT]] as const) {
          const upd = F.normalize(mem.indexSelect(0, idx).mul(m).add(v.detach().mul(1 - m)));
          mem.indexCopy_(0, idx, upd);
        }
      } else {
        const B = vS.shape[0], cap = this.memS!.shape[0];
        for (let i = 0; i < B; i++) {
          const p = (this.qPtr + i) % cap;
          this.memS!.narrow(0, p, 1).copy_(vS.detach().narrow(0, i, 1));
          this.memT!.narrow(0, p, 1).copy_(vT.detach().narrow(0, i, 1));
        }
        this.qPtr = (this.qPtr + B) % cap; this.qFill = Math.min(cap, this.qFill + B);
      }
    });
  }
}

registerMethod({
  name: 'crd',
  summary: "contrastive representation distillation: CE + β·NCE(student↔teacher embeddings) with a memory 'bank' (needs batch.indices, numData) or a 'queue'",
  teachers: [1, 1],
  options: options({
    featDim: count(128), nceK: count(16384), nceT: positive(0.07), nceM: probability(0.5), beta: nonNegative(0.8),
    ceWeight: nonNegative(1), kdWeight: nonNegative(0), temperature: positive(4), memory: oneOf(['bank', 'queue'], 'bank'),
    numData: count(1).nullable().default(null), mode: oneOf(['exact', 'relax'], 'exact'), seed: nonNegativeInt(0),
  }),
  create: (ctx, o) => {
    // under the trainer the bank is sized from the training set and negatives come from other classes
    const d = new CRD(ctx.student, ctx.teachers[0], { ...o, numData: o.numData ?? ctx.labels?.length ?? null }, ctx.inChans, ctx.imgSize);
    if (ctx.labels && o.memory === 'bank') d.setLabels(ctx.labels);
    return d;
  },
});
