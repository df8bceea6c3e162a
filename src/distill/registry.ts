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
  /** 'logits': the method sees its teachers only through teacherLogits(teacher, batch.x), so a
   *  teacher-output cache (train/cache/) can stand in for them. Absent: it reads live teacher
   *  features (projectors, hints, dense maps) and cannot use one. */
  teacherCache?: 'logits';
  create(ctx: MethodContext, options: z.output<S>): Distiller;
  /** how top-1 is read out of the student (reports name it); absent: the student's logits */
  readout?(options: z.output<S>): string;
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
/** The methods that can use a teacher-output cache. */
export function cacheableMethods(): string[] { return listMethods().filter((m) => METHODS.get(m)!.teacherCache === 'logits'); }
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

/** The read-out a method's top-1 uses with these options, in words (reports name it). */
export function methodReadout(name: string, options: unknown = {}): string {
  const e = methodEntry(name);
  const r = e.options.safeParse(options ?? {});
  if (!r.success) throw new Error(`method '${name}': options do not parse: ${r.error.issues.map(issueMessage).join('; ')}`);
  return e.readout ? e.readout(r.data) : "the student's logits";
}

/** A problem with one option: its path inside the options and what is wrong. */
export interface OptionIssue { path: (string | number)[]; message: string; /** unknown keys, where that is the issue */ keys?: string[] }

/** Checks `options` against the method's schema: the parsed options, or one issue per bad key
 *  (unknown keys with a "did you mean" from the schema's own keys). */
export function checkMethodOptions(name: string, options: unknown): { ok: true; value: unknown } | { ok: false; issues: OptionIssue[] } {
  const schema = methodEntry(name).options;
  const r = schema.safeParse(options);
  if (r.success) return { ok: true, value: r.data };
  const known = describeOptions(schema).map((d) => d.key);
  return {
    ok: false,
    issues: r.error.issues.map((i) => {
      if (i.code !== 'unrecognized_keys' || i.path.length) return { path: i.path, message: issueMessage(i) };
      const hints = i.keys.map((k) => didYouMean(k, known)).filter((k): k is string => k !== null);
      return { path: [], keys: i.keys, message: `${issueMessage(i)} for method '${name}'${hints.length ? ` (did you mean ${hints.map((k) => `'${k}'`).join(', ')}?)` : ''}; known: ${known.join(', ') || 'none'}` };
    }),
  };
}

/** Parses `options` with the method's schema; throws an Error naming each bad key. */
export function parseMethodOptions(name: string, options: unknown = {}): unknown {
  const r = checkMethodOptions(name, options);
  if (r.ok) return r.value;
  throw new Error(r.issues.map((i) => `method '${name}': ${issuePath(['options', ...i.path])}: ${i.message}`).join('\n'));
}

export function createDistiller(name: string, ctx: MethodContext, options: unknown = {}): Distiller {
  const e = methodEntry(name);
  const n = ctx.teachers.length;
  if (n < e.teachers[0] || n > e.teachers[1]) {
    throw new Error(`method '${name}' needs ${e.teachers[0] === e.teachers[1] ? e.teachers[0] : `${e.teachers[0]}–${e.teachers[1]}`} teacher(s), got ${n}`);
  }
  return e.create(ctx, parseMethodOptions(name, options));
}
