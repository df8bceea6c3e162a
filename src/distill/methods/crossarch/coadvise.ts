// Co-advise / CivT (Ren et al., CVPR 2022), as OliverRensu/co-advise trains it: the class head
// learns from the labels, the convolution-token head from the CNN teacher, the involution-token
// head from the INN teacher (T²·KL batchmean, T = 1); inference averages the three heads
// (the official code's read-out; the paper's text says the class token — `readout: cls`).
//
// Teachers are bound by ROLE, not by position: each civet teacher is recognised as an involution
// network (it contains involution layers) or a CNN, and the INN feeds the involution-token head
// whatever order the config lists them in. Two teachers of the same kind (Table 5's two CNNs)
// are taken in order, first → conv head, second → inv head; `roles: 'cnn,inn'` (or 'inn,cnn', …)
// states the roles explicitly, needed for TorchScript teachers, and is checked against the
// models where they can be recognised.
//
// The class head's cross-entropy uses label smoothing 0.1, as main.py's
// LabelSmoothingCrossEntropy(args.smoothing) when mixup is off (with mixup: soft-target CE).
//
// labelsOnly: the no-distillation control of the same architecture — no teachers, all three
// heads on the labels (each the same smoothed CE), the same read-out.
import { Tensor } from '../../../tensor';
import { Module } from '../../../nn/module';
import { Involution2d } from '../../../nn/layers';
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits, liveTeacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, weight, oneOf, fraction, flag, options } from '../../options';
import { z } from 'zod';
import { coadviseTerms } from '../../losses/crossarch';
import { classificationLoss } from '../../losses/common';
import type { Classifier } from '../../../models/registry';

/** Inference read-out: 'mean3' = (cls + conv + inv)/3 as the official code (default); 'cls' = the paper's class token; or one distilled head. */
export type CoadviseReadout = 'mean3' | 'cls' | 'conv' | 'inv';
export type TeacherRole = 'cnn' | 'inn';

/** How each read-out is named in reports. */
export const COADVISE_READOUT_TEXT: Record<CoadviseReadout, string> = {
  mean3: 'mean of the cls, conv and inv heads (official code)',
  cls: 'class head (the paper\'s text)',
  conv: 'conv-token head',
  inv: 'inv-token head',
};

interface CivtLike extends Classifier { forwardHeads(x: Tensor): { cls: Tensor; conv: Tensor; inv: Tensor } }

/** 'inn' for a civet model with involution layers, 'cnn' for any other civet model, null when it cannot be told (TorchScript). */
export function teacherRole(t0: Teacher): TeacherRole | null {
  const t = liveTeacher(t0);
  if (!(t instanceof Module)) return null;
  for (const [, m] of t.namedModules()) if (m instanceof Involution2d) return 'inn';
  return 'cnn';
}

/** The teachers of the conv and inv heads, bound by role (see the header). */
export function bindTeachers(teachers: Teacher[], roles: 'auto' | [TeacherRole, TeacherRole]): { cnn: Teacher; inn: Teacher; roles: [TeacherRole, TeacherRole] } {
  const seen = teachers.map(teacherRole);
  let r: [TeacherRole, TeacherRole];
  if (roles === 'auto') {
    const unknown = seen.findIndex((k) => k === null);
    if (unknown >= 0) throw new Error(`coadvise: cannot tell whether teacher ${unknown + 1} (${(teachers[unknown] as any).name ?? 'TorchScript'}) is a CNN or an involution network; give options.roles, e.g. 'inn,cnn'`);
    r = seen as [TeacherRole, TeacherRole];
  } else {
    seen.forEach((k, i) => {
      if (k !== null && k !== roles[i]) throw new Error(`coadvise: options.roles.${i}: '${roles[i]}' but teacher ${i + 1} (${teachers[i].constructor.name}) is ${k === 'inn' ? 'an involution network' : 'a CNN (no involution layers)'}`);
    });
    r = roles;
  }
  // one of each kind: by role; two of a kind (Table 5's ✓✓): in the order given
  if (r[0] !== r[1]) return { cnn: teachers[r.indexOf('cnn')], inn: teachers[r.indexOf('inn')], roles: r };
  return { cnn: teachers[0], inn: teachers[1], roles: r };
}

export class CoAdvise extends Distiller {
  readonly method = 'coadvise';
  /** the teacher of the conv-token head and of the inv-token head (null with labelsOnly) */
  readonly convTeacher: Teacher | null;
  readonly invTeacher: Teacher | null;
  constructor(student: Classifier, teachers: Teacher[], readonly o: { temperature: number; weights: [number, number, number]; readout: CoadviseReadout; roles: 'auto' | [TeacherRole, TeacherRole]; labelSmoothing: number; labelsOnly: boolean }) {
    super(student, teachers);
    if (typeof (student as any).forwardHeads !== 'function' || !('head_inv' in (student as any))) {
      throw new Error(`coadvise: the student must be a CivT model (civt_tiny/small/base) with class, conv and inv heads`);
    }
    if (o.labelsOnly) {
      if (teachers.length) throw new Error(`coadvise: labelsOnly trains the three heads on the labels without teachers; remove the ${teachers.length} teacher(s)`);
      this.convTeacher = this.invTeacher = null;
    } else {
      if (teachers.length !== 2) throw new Error(`coadvise: needs 2 teachers (a CNN and an involution network), got ${teachers.length} (labelsOnly: true for the no-teacher control)`);
      const b = bindTeachers(teachers, o.roles);
      this.convTeacher = b.cnn;
      this.invTeacher = b.inn;
    }
  }
  trainStep(b: DistillBatch): TrainOutput {
    const h = (this.student as CivtLike).forwardHeads(b.x);
    const [w0, w1, w2] = this.o.weights;
    const logits = readout3(h, this.o.readout);
    if (this.o.labelsOnly) {
      const ce = (z: Tensor) => classificationLoss(z, b.y, b.soft, this.o.labelSmoothing);
      return { logits, terms: { ce: ce(h.cls).mul(w0), ce_conv: ce(h.conv).mul(w1), ce_inv: ce(h.inv).mul(w2) } };
    }
    // the teachers see the same (mixed) images as the student, without gradients, in eval mode
    const t = coadviseTerms(h, b.y, teacherLogits(this.convTeacher!, b.x), teacherLogits(this.invTeacher!, b.x), this.o.temperature, b.soft, this.o.labelSmoothing);
    return { logits, terms: { ce: t.ce.mul(w0), kd_conv: t.kd_conv.mul(w1), kd_inv: t.kd_inv.mul(w2) } };
  }
  override predict(x: Tensor): Tensor { return readout3((this.student as CivtLike).forwardHeads(x), this.o.readout); }
}

function readout3(h: { cls: Tensor; conv: Tensor; inv: Tensor }, r: CoadviseReadout): Tensor {
  return r === 'mean3' ? h.cls.add(h.conv).add(h.inv).div(3) : h[r];
}

registerMethod({
  name: 'coadvise',
  teacherCache: 'logits',
  summary: 'Co-advise/CivT: CNN teacher → conv-token head, INN teacher → inv-token head (bound by role), labels → class head; labelsOnly = no-teacher control',
  teachers: [0, 2],
  options: options({
    temperature: positive(1),
    /** [ce, kd_conv, kd_inv] */
    weights: z.tuple([weight(), weight(), weight()], { invalid_type_error: 'expected [ce, kd_conv, kd_inv]' }).default([1, 1, 1]),
    readout: oneOf(['mean3', 'cls', 'conv', 'inv'], 'mean3'),
    /** 'auto' = recognised from the models; or the role of each listed teacher, in order ('inn,cnn', …) */
    roles: oneOf(['auto', 'cnn,inn', 'inn,cnn', 'cnn,cnn', 'inn,inn'], 'auto'),
    labelSmoothing: fraction(0.1),
    labelsOnly: flag(false),
  }),
  readout: (o) => COADVISE_READOUT_TEXT[o.readout as CoadviseReadout],
  create: (ctx, o) => new CoAdvise(ctx.student, ctx.teachers, { ...o, roles: o.roles === 'auto' ? 'auto' : o.roles.split(',') as [TeacherRole, TeacherRole] }),
});
