// Building blocks for method option schemas (zod), and the option table `civet methods` prints,
// read back from the schemas so the docs cannot drift from what is checked. Every option has a
// default, so `schema.parse({})` gives a method's defaults; objects are strict, so an unknown key
// is an error; numbers are never coerced ("4" is a string, not 4).
import { z } from 'zod';

const number = () => z.number({ invalid_type_error: 'expected a number' }).finite('expected a finite number');
/** > 0 (temperatures, step sizes) */
export const positive = (d: number) => number().positive('expected a positive number').default(d);
/** ≥ 0 (loss weights); `weight()` without a default, for lists */
export const weight = () => number().nonnegative('expected a number >= 0');
export const nonNegative = (d: number) => weight().default(d);
/** a probability or mixing weight in [0, 1] */
export const probability = (d: number) => number().min(0, 'expected a number in [0, 1]').max(1, 'expected a number in [0, 1]').default(d);
/** in [0, 1) (label smoothing ε) */
export const fraction = (d: number) => number().min(0, 'expected a number in [0, 1)').lt(1, 'expected a number in [0, 1)').default(d);
/** a count ≥ 1 */
export const count = (d: number) => number().int('expected an integer').positive('expected an integer >= 1').default(d);
/** an integer ≥ 0 */
export const nonNegativeInt = (d: number) => number().int('expected an integer').nonnegative('expected an integer >= 0').default(d);
export const flag = (d: boolean) => z.boolean().default(d);
export const oneOf = <U extends string, T extends [U, ...U[]]>(values: T, d: T[number]) => z.enum(values).default(d);
/** a list of stage indices (integers; negative ones count from the end where the method says so) */
export const stageList = () => z.array(number().int('expected an integer stage index'), { invalid_type_error: 'expected a list of stage indices' });
/** the strict object a method's options are */
export const options = <S extends z.ZodRawShape>(shape: S) => z.object(shape).strict();

/** Options whose defaults depend on a mode: `key` picks the branch (default `defaultMode`), each
 *  branch a strict object with the mode as a literal. */
export function byMode<K extends string, B extends [z.ZodDiscriminatedUnionOption<K>, ...z.ZodDiscriminatedUnionOption<K>[]]>(key: K, defaultMode: string, branches: B) {
  return z.preprocess(
    (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !(key in v) ? { ...v, [key]: defaultMode } : v),
    z.discriminatedUnion(key, branches));
}

export type OptionsSchema = z.ZodTypeAny;

export interface OptionDoc { key: string; type: string; default: string }

/** One row per option: its type with range, and its default (per mode where they differ). */
export function describeOptions(schema: OptionsSchema): OptionDoc[] {
  const s = unwrapEffects(schema);
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as z.ZodRawShape).map(([key, t]) => ({ key, type: typeName(t), default: fmt(defaultOf(t)) }));
  }
  if (s instanceof z.ZodDiscriminatedUnion) {
    const disc: string = s.discriminator;
    const top = schema.parse({}) as Record<string, unknown>;
    const branches = [...s.options] as z.AnyZodObject[];
    const modeOf = (b: z.AnyZodObject) => String((b.shape[disc] as z.ZodLiteral<string>).value);
    const rows: OptionDoc[] = [{ key: disc, type: branches.map((b) => `'${modeOf(b)}'`).join(' | '), default: fmt(top[disc]) }];
    const keys = [...new Set(branches.flatMap((b) => Object.keys(b.shape)))].filter((k) => k !== disc);
    for (const key of keys) {
      const having = branches.filter((b) => key in b.shape);
      const types = [...new Set(having.map((b) => typeName(b.shape[key])))];
      const defaults = having.map((b) => fmt(defaultOf(b.shape[key])));
      const same = defaults.every((d) => d === defaults[0]);
      const only = having.length < branches.length ? ` (${disc} ${having.map((b) => `'${modeOf(b)}'`).join(', ')} only)` : '';
      rows.push({
        key, type: types.join(' / ') + only,
        default: same ? defaults[0] : having.map((b, i) => `${defaults[i]} (${modeOf(b)})`).join(', '),
      });
    }
    return rows;
  }
  throw new Error('describeOptions: a method options schema is a strict object or a byMode union');
}

function unwrapEffects(t: z.ZodTypeAny): z.ZodTypeAny {
  while (t instanceof z.ZodEffects) t = t.innerType();
  return t;
}

function defaultOf(t: z.ZodTypeAny): unknown {
  return t instanceof z.ZodDefault ? t._def.defaultValue() : undefined;
}

function fmt(v: unknown): string {
  return v === undefined ? '(required)' : typeof v === 'string' ? `'${v}'` : JSON.stringify(v);
}

function typeName(t: z.ZodTypeAny): string {
  t = unwrapEffects(t);
  if (t instanceof z.ZodDefault) return typeName(t._def.innerType);
  if (t instanceof z.ZodOptional) return typeName(t._def.innerType);
  if (t instanceof z.ZodNullable) return `null or ${typeName(t._def.innerType)}`;
  if (t instanceof z.ZodNumber) return numberName(t);
  if (t instanceof z.ZodBoolean) return 'true | false';
  if (t instanceof z.ZodString) return 'string';
  if (t instanceof z.ZodLiteral) return JSON.stringify(t.value);
  if (t instanceof z.ZodEnum) return (t.options as string[]).map((o) => `'${o}'`).join(' | ');
  if (t instanceof z.ZodUnion) return (t.options as z.ZodTypeAny[]).map(typeName).join(' | ');
  if (t instanceof z.ZodArray) {
    const min = t._def.minLength?.value, exact = t._def.exactLength?.value;
    const n = exact !== undefined ? `${exact} ` : min ? `${min}+ ` : '';
    return `list of ${n}${typeName(t.element)}`;
  }
  if (t instanceof z.ZodTuple) return `[${(t.items as z.ZodTypeAny[]).map(typeName).join(', ')}]`;
  return t._def.typeName ?? 'value';
}

function numberName(t: z.ZodNumber): string {
  let lo: { v: number; inc: boolean } | null = null, hi: { v: number; inc: boolean } | null = null, int = false;
  for (const c of t._def.checks) {
    if (c.kind === 'int') int = true;
    if (c.kind === 'min') lo = { v: c.value, inc: c.inclusive };
    if (c.kind === 'max') hi = { v: c.value, inc: c.inclusive };
  }
  const base = int ? 'integer' : 'number';
  if (lo && hi) return `${base} in ${lo.inc ? '[' : '('}${lo.v}, ${hi.v}${hi.inc ? ']' : ')'}`;
  if (lo) return int && lo.v === 0 && !lo.inc ? 'integer ≥ 1' : `${base} ${lo.inc ? '≥' : '>'} ${lo.v}`;
  if (hi) return `${base} ${hi.inc ? '≤' : '<'} ${hi.v}`;
  return base;
}
