// Method registry: configs name a method and give its options; the trainer builds it here. Each
// method registers a zod schema for its options (distill/options.ts): defaults, ranges, enums,
// unknown keys refused; create() receives what the schema parsed, typed.
import type { z } from 'zod';
import type { Classifier } from '../models/registry';
import type { Distiller, Teacher } from './distiller';
import { describeOptions, OptionDoc, OptionsSchema } from './options';
import { didYouMean, issueMessage, issuePath } from '../util/issues';

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

export interface MethodEntry<S extends OptionsSchema = OptionsSchema> {
  name: string;
  /** one line for `civet methods` and docs */
  summary: string;
  /** how many teachers the method needs: [min, max] */
  teachers: [number, number];
  /** the options: every key with a default, strict (distill/options.ts) */
  options: S;
  /** what the method needs from the trainer's batches: 'classPairs' = B samples then one
   *  same-class partner each (CS-KD's PairBatchSampler) */
  batches?: 'classPairs';
  create(ctx: MethodContext, options: z.output<S>): Distiller;
}

const METHODS = new Map<string, MethodEntry>();

export function registerMethod<S extends OptionsSchema>(e: MethodEntry<S>): void {
  if (METHODS.has(e.name)) throw new Error(`distillation method '${e.name}' registered twice`);
  METHODS.set(e.name, e);
}
export function unknownMethodMessage(name: string): string {
  const near = didYouMean(name, listMethods());
  return `unknown distillation method '${name}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${listMethods().join(', ')}`;
}
export function methodEntry(name: string): MethodEntry {
  const e = METHODS.get(name);
  if (!e) throw new Error(unknownMethodMessage(name));
  return e;
}
export function hasMethod(name: string): boolean { return METHODS.has(name); }
export function listMethods(): string[] { return [...METHODS.keys()].sort(); }

/** The defaults of a method's options (its schema parsed from nothing). */
export function methodDefaults(name: string): Record<string, unknown> {
  return methodEntry(name).options.parse({});
}
/** One row per option: key, type and range, default. */
export function methodOptionDocs(name: string): OptionDoc[] {
  return describeOptions(methodEntry(name).options);
}

/** Parses `options` with the method's schema; throws an Error naming each bad key. */
export function parseMethodOptions(name: string, options: unknown = {}): unknown {
  const r = methodEntry(name).options.safeParse(options);
  if (r.success) return r.data;
  throw new Error(r.error.issues.map((i) => `method '${name}': options.${issuePath(i.path)}: ${issueMessage(i)}`.replace('options.(top level)', 'options')).join('\n'));
}

export function createDistiller(name: string, ctx: MethodContext, options: unknown = {}): Distiller {
  const e = methodEntry(name);
  const n = ctx.teachers.length;
  if (n < e.teachers[0] || n > e.teachers[1]) {
    throw new Error(`method '${name}' needs ${e.teachers[0] === e.teachers[1] ? e.teachers[0] : `${e.teachers[0]}–${e.teachers[1]}`} teacher(s), got ${n}`);
  }
  return e.create(ctx, parseMethodOptions(name, options));
}
