// The distiller interface (mdistiller-style: one file per method under methods/).
//
// A Distiller is a Module that owns the student (submodule 'student') and any trainable parts
// the method adds (projectors, branch exits, an assistant), so that the optimizer, checkpoints
// and EMA see exactly what trains. Teachers are held but NOT registered: they are frozen, in
// eval mode, never saved with the run and never updated.
import { Tensor, noGrad, tidy } from '../tensor';
import { Module } from '../nn/module';
import type { Classifier } from '../models/registry';
import type { BatchViews } from '../data/loader';

/** One training batch. `y` holds class indices; `soft` the mixed/smoothed targets when mixup is on. */
export interface DistillBatch {
  x: Tensor;
  y: Tensor;
  soft?: Tensor;
  /** dataset indices of the samples (CRD's memory bank, CS-KD's pairing) */
  indices?: Int32Array;
  /** the samples' augmented views, when the loader draws from a fixed view set (teacher-output cache) */
  views?: BatchViews;
}

export interface StepContext {
  step: number;           // global optimizer step, 0-based
  epoch: number;          // 0-based
  totalEpochs: number;
  stepsPerEpoch: number;
}

/** What a training step returns: the student's logits (for train accuracy) and the named, already-weighted loss terms. */
export interface TrainOutput {
  logits: Tensor;
  terms: Record<string, Tensor>;
}

/** A phase a method trains before its main run, with its own optimizer and length, outside the
 *  main schedule and epochs (FSP's first stage: RepDistiller helper/pretrain.py). The trainer and
 *  fit() run it first, then the distiller's own trainStep under the run's optimizer and schedule. */
export interface InitPhase {
  readonly name: string;
  /** passes over the training data (fit(): epochs × its stepsPerEpoch steps) */
  readonly epochs: number;
  /** SGD at a constant learning rate over namedParameters() (pretrain.py's optimizer) */
  readonly sgd: { lr: number; momentum: number; weightDecay: number };
  /** the student, in training mode during the phase (EMA is not updated by it) */
  readonly student: Classifier;
  /** what the phase trains, named as in the distiller's own parameters */
  namedParameters(): [string, Tensor][];
  trainStep(batch: DistillBatch, ctx: StepContext): TrainOutput;
}

/** A frozen teacher: a civet Classifier, or any function from images to logits (TorchScript, or a
 *  teacher-output cache, which names the teacher it stands for in `wraps`). */
export type Teacher = Classifier | { name: string; logits(x: Tensor): Tensor; readonly wraps?: Teacher };

/** The teacher itself behind any wrapper (a cache): for what a method learns about its teacher
 *  at construction (its kind, its widths), never for its outputs. */
export function liveTeacher(t: Teacher): Teacher {
  let u = t;
  while (!(u instanceof Module) && (u as { wraps?: Teacher }).wraps) u = (u as { wraps: Teacher }).wraps;
  return u;
}

export function teacherLogits(t: Teacher, x: Tensor): Tensor {
  // its own scope: the teacher's activations are freed as soon as its logits exist, instead of
  // living until the end of the training step
  return tidy(() => noGrad(() => ('logits' in t && typeof t.logits === 'function' ? t.logits(x) : (t as Classifier).call(x))));
}

export abstract class Distiller extends Module {
  abstract readonly method: string;
  readonly student: Classifier;
  readonly teachers: Teacher[];

  constructor(student: Classifier, teachers: Teacher[] = []) {
    super();
    this.student = this.module('student', student);
    this.teachers = teachers;
    for (const t of teachers.map(liveTeacher)) if (t instanceof Module) { t.eval(); t.requiresGrad_(false); }
  }

  /** Loss terms for one batch (call inside tidy(); the trainer sums the terms and backpropagates). */
  abstract trainStep(batch: DistillBatch, ctx: StepContext): TrainOutput;

  /** The phase to train before the main run, if the method has one (FSP); null for most. */
  initPhase(): InitPhase | null { return null; }

  /** Inference read-out of the student (e.g. CivT's mean of three heads). */
  predict(x: Tensor): Tensor { return this.student.call(x); }

  forward(x: Tensor): Tensor { return this.predict(x); }

  /** Teachers stay in eval mode whatever the distiller's mode. */
  override train(mode = true): this {
    super.train(mode);
    for (const t of this.teachers.map(liveTeacher)) if (t instanceof Module) t.eval();
    return this;
  }
}
