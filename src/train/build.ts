// Builds a run from a validated config: data, student, teachers and distiller (buildRun), then
// the optimizer and learning-rate schedule (buildOptimization). train() and `civet eval` both
// build through here, so an evaluated checkpoint meets exactly the modules it was trained with.
// Relative paths in the config resolve against the explicit `baseDir` — never the process's
// working directory.
import * as path from 'node:path';
import { createModel, Classifier } from '../models/registry';
import { createDistiller } from '../distill/registry';
import type { Distiller, Teacher } from '../distill/distiller';
import { SGD, AdamW, paramGroupsWeightDecay, createSchedule } from '../optim';
import type { Optimizer } from '../optim/optimizer';
import type { Config } from './schema';
import { loadRunData, RunData } from './data';
import { buildTeacher } from './teachers';
import { wrapCachedTeachers } from './cache/setup';
import '../models';
import '../distill';

export interface BuiltRun {
  data: RunData;
  student: Classifier;
  teachers: Teacher[];
  distiller: Distiller;
  device: string;
}

/** Data, student, teachers and the method's distiller, all on cfg.run.device. */
export async function buildRun(cfg: Config, baseDir: string, o: { teacherCache?: boolean } = {}): Promise<BuiltRun> {
  if (!path.isAbsolute(baseDir)) throw new Error(`buildRun: baseDir must be an absolute path, got '${baseDir}'`);
  const device = cfg.run.device;
  const data = await loadRunData(cfg, baseDir);
  const shape = { numClasses: data.numClasses, imgSize: cfg.data.imgSize, inChans: cfg.data.channels };
  const student = createModel(cfg.student.model, { ...shape, ...cfg.student.options }).to(device);
  const live = cfg.teachers.map((t, i) => buildTeacher(t, i, { ...shape, norm: data.norm }, baseDir));
  for (const t of live) if (typeof (t as any).to === 'function') (t as any).to(device);
  // teachers with `cache` answer from their output store for views seen before (train/cache/);
  // `civet eval` never runs a teacher and passes teacherCache: false
  const teachers = o.teacherCache === false ? live : wrapCachedTeachers(cfg, data, live, baseDir);
  const distiller = createDistiller(cfg.method.name, {
    student, teachers, numClasses: data.numClasses, imgSize: cfg.data.imgSize, inChans: cfg.data.channels, labels: data.train.labels,
  }, cfg.method.options);
  if (device !== 'cpu') distiller.to(device);   // the method's own modules (projectors, exits) too
  return { data, student, teachers, distiller, device };
}

export interface Optimization {
  optimizer: Optimizer<any>;
  schedule: ReturnType<typeof createSchedule>;
}

/** The config's optimizer (weight decay off for biases and norms) and its schedule over `stepsPerEpoch`. */
export function buildOptimization(cfg: Config, distiller: Distiller, stepsPerEpoch: number): Optimization {
  const o = cfg.optimizer;
  const groups = paramGroupsWeightDecay(distiller, o.weightDecay);
  const optimizer: Optimizer<any> = o.name === 'sgd'
    ? new SGD(groups as any, { lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay })
    : new AdamW(groups as any, { lr: o.lr, betas: o.betas, weightDecay: o.weightDecay });
  const s = cfg.schedule;
  const schedule = createSchedule({
    name: s.name, lr: o.lr, per: s.per, itersPerEpoch: stepsPerEpoch, warmupEpochs: s.warmupEpochs, warmupLr: s.warmupLr,
    ...(s.name === 'cosine' ? { epochs: cfg.epochs, lrMin: s.minLr } : s.name === 'step' ? { decayEpochs: s.stepEpochs, gamma: s.gamma } : s.name === 'multistep' ? { milestones: s.milestones, gamma: s.gamma } : {}),
  } as any);
  return { optimizer, schedule };
}

/** Frees what buildRun made (teachers are not the distiller's submodules). */
export function disposeRun(r: BuiltRun): void {
  r.distiller.dispose();
  for (const t of r.teachers) if ('dispose' in t && typeof (t as any).dispose === 'function') (t as any).dispose();
}
