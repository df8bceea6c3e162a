// Method registry: configs name a method and give its options; the trainer builds it here.
import type { Classifier } from '../models/registry';
import type { Distiller, Teacher } from './distiller';

export interface MethodContext {
  student: Classifier;
  teachers: Teacher[];
  numClasses: number;
  /** input size of the images the student sees (for methods that build projectors by probing shapes) */
  imgSize: number;
  inChans: number;
  /** labels of the training set in dataset order (CRD's class-aware negatives, its bank size) */
  labels?: Int32Array;
}

export interface MethodEntry {
  name: string;
  /** one line for `civet train --help` and docs */
  summary: string;
  /** how many teachers the method needs: [min, max] */
  teachers: [number, number];
  /** default options (the config's `method.options` are merged over these and validated by `validate`) */
  defaults: Record<string, unknown>;
  /** throws an Error naming the bad option; returns the cleaned options */
  validate?(options: Record<string, unknown>): Record<string, unknown>;
  /** what the method needs from the trainer's batches: 'classPairs' = B samples then one
   *  same-class partner each (CS-KD's PairBatchSampler) */
  batches?: 'classPairs';
  create(ctx: MethodContext, options: Record<string, any>): Distiller;
}

const METHODS = new Map<string, MethodEntry>();

export function registerMethod(e: MethodEntry): void {
  if (METHODS.has(e.name)) throw new Error(`distillation method '${e.name}' registered twice`);
  METHODS.set(e.name, e);
}
export function methodEntry(name: string): MethodEntry {
  const e = METHODS.get(name);
  if (!e) throw new Error(`unknown distillation method '${name}'; known: ${listMethods().join(', ')}`);
  return e;
}
export function listMethods(): string[] { return [...METHODS.keys()].sort(); }

export function createDistiller(name: string, ctx: MethodContext, options: Record<string, unknown> = {}): Distiller {
  const e = methodEntry(name);
  const n = ctx.teachers.length;
  if (n < e.teachers[0] || n > e.teachers[1]) {
    throw new Error(`method '${name}' needs ${e.teachers[0] === e.teachers[1] ? e.teachers[0] : `${e.teachers[0]}–${e.teachers[1]}`} teacher(s), got ${n}`);
  }
  for (const k of Object.keys(options)) if (!(k in e.defaults)) throw new Error(`method '${name}': unknown option '${k}' (known: ${Object.keys(e.defaults).join(', ') || 'none'})`);
  const merged = { ...e.defaults, ...options };
  return e.create(ctx, e.validate ? e.validate(merged) : merged);
}
