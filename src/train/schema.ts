// The run configuration: plain data (YAML or an object), validated with zod before any work
// starts. Every error names the key path, the file and what was expected.
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import YAML from 'yaml';
import { z, ZodIssue, ZodTypeAny } from 'zod';
import { hasMethod, unknownMethodMessage, checkMethodOptions } from '../distill/registry';
import { issueMessage, issuePath, didYouMean } from '../util/issues';
import '../distill';

const posNum = z.number({ invalid_type_error: 'expected a number' }).positive('expected a positive number');
const nonNegNum = z.number({ invalid_type_error: 'expected a number' }).nonnegative('expected a number >= 0');
const posInt = z.number({ invalid_type_error: 'expected an integer' }).int('expected an integer').positive('expected a positive integer');
const nonNegInt = z.number({ invalid_type_error: 'expected an integer' }).int('expected an integer').nonnegative('expected an integer >= 0');
const options = z.record(z.unknown()).default({});

const Teacher = z.object({
  /** a registered civet model, with weights from a safetensors file */
  model: z.string().optional(),
  options: options,
  weights: z.string().optional(),
  /** state-dict names of `weights`: civet's (timm's) or torchvision's */
  naming: z.enum(['civet', 'torchvision']).default('civet'),
  /** a TorchScript file (logit-only methods) */
  torchscript: z.string().optional(),
  /** a finished civet run: its student (best checkpoint) becomes the teacher */
  run: z.string().optional(),
  checkpoint: z.enum(['best', 'last']).default('best'),
  /** the teacher's own input convention (default: from the weights' civet import metadata, else the student's) */
  normalize: z.object({ mean: z.array(z.number()).min(1), std: z.array(posNum).min(1) }).strict().optional(),
  imgSize: posInt.optional(),
  /** a teacher-output cache (train/cache/): outputs recorded once per augmented view and replayed */
  cache: z.object({
    /** the fixed, seeded views per sample the run draws from (FKD-style; 1 = a fixed teacher) */
    views: posInt.default(8),
    /** above 100 classes: keep the k largest logits (+ the tail's mass) per view */
    topk: posInt.default(10),
    /** the cache folder (shared by runs of the same teacher, transforms and data) */
    dir: z.string(),
    /** seed of the view set (fixed across run seeds, so their runs share the cache) */
    seed: nonNegInt.default(0),
  }).strict().optional(),
}).strict().superRefine((t, ctx) => {
  const n = [t.model, t.torchscript, t.run].filter((x) => x !== undefined).length;
  if (n !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of model (+ weights), torchscript or run' });
});

const Augment = z.object({
  randomCrop: z.object({ padding: nonNegInt.default(4) }).strict().optional(),
  flip: z.boolean().default(false),
  randAugment: z.string().optional(),
  randomErasing: z.number().min(0).max(1).default(0),
  mixup: z.object({
    mixupAlpha: nonNegNum.default(0.8), cutmixAlpha: nonNegNum.default(1.0), prob: z.number().min(0).max(1).default(1),
    switchProb: z.number().min(0).max(1).default(0.5), labelSmoothing: z.number().min(0).max(1).default(0.1),
  }).strict().optional(),
}).strict();

export const ConfigSchema = z.object({
  run: z.object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a name of letters, digits, . _ -'),
    out: z.string().default('runs'),
    seed: nonNegInt.default(0),
    deterministic: z.boolean().default(false),
    threads: posInt.optional(),
    /** 'cpu', 'cuda' or 'cuda:N' */
    device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "expected 'cpu', 'cuda' or 'cuda:N'").default('cpu'),
  }).strict(),
  student: z.object({ model: z.string(), options }).strict(),
  teachers: z.array(Teacher).default([]),
  data: z.object({
    dataset: z.enum(['fashion-mnist', 'cifar10', 'cifar100', 'imagefolder']).default('fashion-mnist'),
    root: z.string().optional(),
    valRoot: z.string().optional(),
    subsetPerClass: posInt.optional(),
    testSubsetPerClass: posInt.optional(),
    imgSize: posInt.default(32),
    channels: z.union([z.literal(1), z.literal(3)]).default(3),
    augment: Augment.default({}),
    workers: nonNegInt.default(0),
  }).strict().default({}),
  optimizer: z.object({
    name: z.enum(['sgd', 'adamw']),
    lr: posNum,
    momentum: z.number().min(0).max(1).default(0.9),
    nesterov: z.boolean().default(false),
    weightDecay: nonNegNum.default(0),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
  }).strict(),
  schedule: z.object({
    name: z.enum(['cosine', 'step', 'multistep', 'constant']).default('cosine'),
    warmupEpochs: nonNegNum.default(0),
    warmupLr: nonNegNum.default(0),
    minLr: nonNegNum.default(0),
    per: z.enum(['iteration', 'epoch']).default('iteration'),
    stepEpochs: posNum.default(30),
    milestones: z.array(posNum).default([]),
    gamma: posNum.default(0.1),
  }).strict().default({}),
  epochs: posInt,
  batchSize: posInt,
  accumulate: posInt.default(1),
  clipGrad: posNum.nullable().default(null),
  ema: z.object({ decay: z.number().gt(0).lt(1) }).strict().nullable().default(null),
  // the method's name and its options are checked against the method's own schema here, at load time
  method: z.object({ name: z.string().default('ce'), options }).strict().superRefine((m, ctx) => {
    if (!hasMethod(m.name)) { ctx.addIssue({ code: 'custom', path: ['name'], message: unknownMethodMessage(m.name) }); return; }
    const r = checkMethodOptions(m.name, m.options);
    if (!r.ok) for (const i of r.issues) ctx.addIssue({ code: 'custom', path: ['options', ...i.path], message: i.message, params: { keys: i.keys } });
  }).default({}),
  numerics: z.object({
    onNonFinite: z.enum(['stop', 'skip']).default('stop'),
    /** testing hook: the loss of this (0-based) step becomes NaN */
    injectNanAtStep: nonNegInt.optional(),
  }).strict().default({}),
  precision: z.enum(['fp32', 'bf16']).default('fp32'),
  checkpoint: z.object({ everySteps: nonNegInt.default(0) }).strict().default({}),
  eval: z.object({ batchSize: posInt.default(256), everyEpochs: posInt.default(1) }).strict().default({}),
  log: z.object({ everySteps: posInt.default(10) }).strict().default({}),
}).strict().superRefine((c, ctx) => {
  // one loader serves every cached teacher: they must agree on the view set
  const cached = c.teachers.map((t, i) => [t.cache, i] as const).filter(([k]) => k !== undefined);
  for (const [k, i] of cached.slice(1)) {
    const [k0, i0] = cached[0];
    if (k!.views !== k0!.views) ctx.addIssue({ code: 'custom', path: ['teachers', i, 'cache', 'views'], message: `${k!.views} views, but teachers.${i0}.cache has ${k0!.views} (cached teachers share one view set)` });
    if (k!.seed !== k0!.seed) ctx.addIssue({ code: 'custom', path: ['teachers', i, 'cache', 'seed'], message: `seed ${k!.seed}, but teachers.${i0}.cache has ${k0!.seed} (cached teachers share one view set)` });
  }
  if (cached.length && c.data.augment.mixup) ctx.addIssue({ code: 'custom', path: ['teachers', cached[0][1], 'cache'], message: 'a teacher-output cache cannot be combined with data.augment.mixup yet (a mixed image depends on its batch partner, which no view key names)' });
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(msg: string) { super(msg); this.name = 'ConfigError'; }
}

/** Config files are a few KiB; anything far larger is not a config (and is not parsed). */
export const MAX_CONFIG_BYTES = 1 << 20;
/** Keys that would reach an object's prototype when assigned: refused in files and in --set. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Reads YAML (plain data only: no tags that construct objects; aliases capped, so an alias bomb
 *  is refused instead of expanded). */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_CONFIG_BYTES) throw new ConfigError(`${file}: ${size} bytes is too large for a config file (limit ${MAX_CONFIG_BYTES} bytes); not read`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e: any) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${file}: cannot read config (${e.code ?? e.message})`);
  }
  const doc = YAML.parseDocument(text, { customTags: [], uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError(`${file}: invalid YAML: ${doc.errors[0].message}`);
  let v: unknown;
  // yaml throws a ReferenceError when aliases would expand past the cap (the "billion laughs")
  try { v = doc.toJS({ maxAliasCount: 50 }); } catch (e: any) { throw new ConfigError(`${file}: invalid YAML: ${e.message}`); }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${file}: expected a mapping of settings at the top level`);
  refuseUnsafeKeys(v, file);
  return v;
}

/** A key like `__proto__` anywhere in a config is refused (it would pollute prototypes when merged). */
export function refuseUnsafeKeys(v: unknown, source: string, at: (string | number)[] = []): void {
  if (Array.isArray(v)) { v.forEach((x, i) => refuseUnsafeKeys(x, source, [...at, i])); return; }
  if (v === null || typeof v !== 'object') return;
  for (const k of Object.keys(v)) {
    if (UNSAFE_KEYS.has(k)) throw new ConfigError(`${source}: ${issuePath([...at, k])}: '${k}' is not allowed as a key`);
    refuseUnsafeKeys((v as Record<string, unknown>)[k], source, [...at, k]);
  }
}

/** Applies `a.b.c=value` overrides (values parsed as YAML scalars: numbers, booleans, null, strings, [lists]).
 *  Sections an override creates have no prototype, and `__proto__`, `constructor` and `prototype`
 *  are refused as keys, so no override can reach Object.prototype. */
export function applyOverrides(raw: any, sets: string[], source = '--set'): any {
  const out = structuredClone(raw);
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${source}: expected key.path=value, got '${s}'`);
    const keys = s.slice(0, eq).split('.');
    const bad = keys.find((k) => UNSAFE_KEYS.has(k) || k === '');
    if (bad !== undefined) throw new ConfigError(`${source} ${s}: ${bad === '' ? 'an empty key' : `'${bad}'`} is not allowed in a key path`);
    let value: unknown;
    try { value = YAML.parse(s.slice(eq + 1)); } catch { value = s.slice(eq + 1); }
    refuseUnsafeKeys(value, `${source} ${s}`);
    let o = out;
    for (const k of keys.slice(0, -1)) {
      if (!Object.prototype.hasOwnProperty.call(o, k) || o[k] === undefined) o[k] = Object.create(null);
      if (typeof o[k] !== 'object' || o[k] === null) throw new ConfigError(`${source}: '${keys.join('.')}': '${k}' is not a section`);
      o = o[k];
    }
    o[keys[keys.length - 1]] = value;
  }
  return out;
}

/** `sets`: the `--set` overrides that were applied; an issue at a key they set is blamed on them. */
export function validateConfig(raw: unknown, source = '<config>', sets: string[] = []): Config {
  const r = ConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${blame(i, sets) ?? source}: ${issuePath(i.path)}: ${issueMessage(i)}${hint(i)}`);
  throw new ConfigError(lines.join('\n'));
}

/** " (did you mean 'x'?)" for unknown keys near a key the schema has at that path. */
function hint(i: ZodIssue): string {
  if (i.code !== 'unrecognized_keys') return '';
  const known = keysAt(ConfigSchema, i.path);
  const near = i.keys.map((k) => didYouMean(k, known)).filter((k): k is string => k !== null);
  return near.length ? ` (did you mean ${near.map((k) => `'${k}'`).join(', ')}?)` : '';
}

/** The keys of the object schema at `at` inside `schema` (through defaults, optionals, arrays). */
export function keysAt(schema: ZodTypeAny, at: (string | number)[]): string[] {
  let t: ZodTypeAny = schema;
  const unwrap = () => {
    for (;;) {
      if (t instanceof z.ZodDefault || t instanceof z.ZodOptional || t instanceof z.ZodNullable) t = t._def.innerType;
      else if (t instanceof z.ZodEffects) t = t.innerType();
      else return;
    }
  };
  for (const k of at) {
    unwrap();
    if (t instanceof z.ZodArray) t = t.element;
    else if (t instanceof z.ZodObject) { const next = t.shape[k]; if (!next) return []; t = next; }
    else return [];
  }
  unwrap();
  return t instanceof z.ZodObject ? Object.keys(t.shape) : [];
}

/** The `--set a.b=v` whose key is the issue's key or a section above it (unknown keys: the key itself). */
function blame(i: ZodIssue, sets: string[]): string | null {
  const unknown = i.code === 'unrecognized_keys' ? i.keys : i.code === 'custom' && Array.isArray(i.params?.keys) ? i.params.keys as string[] : null;
  return blameSet(i.path, unknown, sets);
}

/** The last `--set` whose key is `path` (or each of `unknownKeys` under it) or a section above it. */
export function blameSet(path: (string | number)[], unknownKeys: string[] | null, sets: string[]): string | null {
  const at = path.join('.');
  const keys = unknownKeys ? unknownKeys.map((k) => (at ? `${at}.${k}` : k)) : [at];
  // the last --set of a key is the one that took effect
  const s = [...sets].reverse().find((s) => {
    const k = s.slice(0, s.indexOf('='));
    return keys.some((q) => q === k || q.startsWith(k + '.'));
  });
  return s === undefined ? null : `--set ${s}`;
}

export function loadConfig(fileOrObject: string | unknown, sets: string[] = []): { config: Config; source: string } {
  const source = typeof fileOrObject === 'string' ? fileOrObject : '<config object>';
  const raw = typeof fileOrObject === 'string' ? readConfigFile(fileOrObject) : fileOrObject;
  if (typeof fileOrObject !== 'string') refuseUnsafeKeys(raw, source);
  return { config: validateConfig(applyOverrides(raw, sets), source, sets), source };
}

/** A run directory's config.json, read and validated; every error names the file. */
export function loadRunConfig(runDir: string, sets: string[] = []): { config: Config; source: string } {
  const file = path.join(runDir, 'config.json');
  let raw: unknown;
  try { raw = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e: any) {
    throw new ConfigError(`${file}: ${e.code === 'ENOENT' ? 'not a civet run directory (no config.json)' : e.code ? `cannot read (${e.code})` : `invalid JSON: ${e.message}`}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: expected a JSON object of settings`);
  refuseUnsafeKeys(raw, file);
  return { config: validateConfig(applyOverrides(raw, sets), file, sets), source: file };
}

export function configHash(c: Config): string {
  return crypto.createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 16);
}
