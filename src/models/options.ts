// The options a config may give each model family (student.options, teachers.N.options), as
// strict zod schemas: an unknown key (`widht: 16`) or an out-of-range value (`numClasses: 0`) is
// refused before any work starts, with a "did you mean" from the family's own keys. The model
// constructors keep their own checks for library callers; these schemas are what a run config
// is held to (train/preflight.ts). numClasses, imgSize and inChans come from the data unless given.
import { z } from 'zod';
import { modelEntry } from './registry';
import { didYouMean, issueMessage } from '../util/issues';

const int = (min: number, what: string) => z.number({ invalid_type_error: 'expected an integer' }).int('expected an integer').min(min, `expected ${what}`);
const rate = z.number({ invalid_type_error: 'expected a number' }).min(0, 'expected a number in [0, 1)').lt(1, 'expected a number in [0, 1)');
const size2 = z.union([int(1, 'a positive integer'), z.tuple([int(1, 'a positive integer'), int(1, 'a positive integer')])], { errorMap: () => ({ message: 'expected a positive integer or [h, w]' }) });

/** Every model: the data's shape (a config rarely sets these; a classifier needs >= 1 class). */
const common = {
  numClasses: int(1, 'an integer >= 1 (the number of classes)').optional(),
  imgSize: size2.optional(),
  inChans: int(1, 'a positive integer').optional(),
  dropRate: rate.optional(),
};
const cnn = { ...common, dropPathRate: rate.optional() };
const vit = {
  ...common,
  patchSize: size2.optional(),
  embedDim: int(1, 'a positive integer').optional(),
  depth: int(1, 'a positive integer').optional(),
  numHeads: int(1, 'a positive integer').optional(),
  mlpRatio: z.number({ invalid_type_error: 'expected a number' }).positive('expected a positive number').optional(),
  mlpDim: int(1, 'a positive integer').optional(),
  qkvBias: z.boolean().optional(),
  attnDropRate: rate.optional(),
  dropPathRate: rate.optional(),
  initValues: z.number({ invalid_type_error: 'expected a number' }).positive('expected a positive number').nullable().optional(),
};

export const MODEL_OPTION_SCHEMAS: Readonly<Record<string, z.AnyZodObject>> = Object.freeze({
  tiny: z.object({ ...common, width: int(1, 'a positive integer (the first stage\'s channels)').optional() }).strict(),
  cifar_resnet: z.object(common).strict(),
  wrn: z.object(common).strict(),
  resnet: z.object({ ...cnn, zeroInitResidual: z.boolean().optional() }).strict(),
  rednet: z.object({
    ...cnn, zeroInitResidual: z.boolean().optional(),
    baseWidth: int(32, 'a positive multiple of 32').multipleOf(32, 'expected a positive multiple of 32').optional(),
  }).strict(),
  regnet: z.object({ ...cnn, zeroInitLast: z.boolean().optional() }).strict(),
  vit: z.object(vit).strict(),
  deit: z.object({ ...vit, readout: z.enum(['mean', 'cls', 'dist']).optional() }).strict(),
  civt: z.object({ ...vit, readout: z.enum(['mean', 'cls', 'conv', 'inv']).optional() }).strict(),
  mixer: z.object({
    ...vit,
    mlpRatio: z.tuple([z.number().positive(), z.number().positive()], { errorMap: () => ({ message: 'expected [tokens, channels] ratios, both > 0' }) }).optional(),
  }).strict(),
});

export interface ModelOptionIssue { path: (string | number)[]; message: string }

/** The issues of `options` for model `name` (empty when they are fine, or when the family has no
 *  schema: a model registered by a library user is not held to one). `name` must be registered. */
export function checkModelOptions(name: string, options: unknown): ModelOptionIssue[] {
  const e = modelEntry(name);
  const schema = e ? MODEL_OPTION_SCHEMAS[e.family] : undefined;
  if (!schema) return [];
  const r = schema.safeParse(options ?? {});
  if (r.success) return [];
  const known = Object.keys(schema.shape);
  return r.error.issues.map((i) => {
    if (i.code !== 'unrecognized_keys') return { path: i.path, message: issueMessage(i) };
    const hints = i.keys.map((k) => didYouMean(k, known)).filter((k): k is string => k !== null);
    return {
      path: i.path,
      message: `${issueMessage(i)} for model '${name}'${hints.length ? ` (did you mean ${hints.map((k) => `'${k}'`).join(', ')}?)` : ''}; known: ${known.join(', ')}`,
    };
  });
}
