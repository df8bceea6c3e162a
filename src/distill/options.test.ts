// Every registered method's options are a strict zod schema: for each method (the table comes from
// the registry, so a new method without a schema fails here) an unknown key, a string where a
// number belongs, and a bad value of EVERY option are refused with an error that names the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import './index';
import { listMethods, methodEntry, methodDefaults, methodOptionDocs, parseMethodOptions } from './registry';

/** The branches of a schema: one strict object, or one per mode of a byMode union. */
function branches(schema: z.ZodTypeAny): { fixed: Record<string, unknown>; shape: z.ZodRawShape }[] {
  let s = schema;
  while (s instanceof z.ZodEffects) s = s.innerType();
  if (s instanceof z.ZodObject) return [{ fixed: {}, shape: s.shape }];
  assert.ok(s instanceof z.ZodDiscriminatedUnion, 'an options schema is a strict object or a byMode union');
  return [...s.options].map((b: z.AnyZodObject) => {
    const fixed: Record<string, unknown> = {};
    for (const [k, t] of Object.entries(b.shape)) if (t instanceof z.ZodLiteral) fixed[k] = t.value;
    return { fixed, shape: b.shape };
  });
}

/** A value the option's type refuses (out of its range, not in its enum, of the wrong type). */
function badValue(t: z.ZodTypeAny): unknown {
  while (t instanceof z.ZodDefault || t instanceof z.ZodNullable || t instanceof z.ZodOptional) t = t._def.innerType;
  if (t instanceof z.ZodNumber) {
    const c = t._def.checks;
    if (c.some((x) => x.kind === 'int')) return 0.5;
    const min = c.find((x) => x.kind === 'min'), max = c.find((x) => x.kind === 'max');
    if (min && min.kind === 'min') return min.value - 1;
    if (max && max.kind === 'max') return max.value + 1;
    return Infinity;
  }
  if (t instanceof z.ZodEnum) return 'no-such-choice';
  if (t instanceof z.ZodBoolean) return 'yes';
  if (t instanceof z.ZodArray) return 'not-a-list';
  if (t instanceof z.ZodTuple) return [1];
  if (t instanceof z.ZodString) return 3;
  assert.fail(`no bad value for an option of type ${t._def.typeName}`);
}

const isNumber = (t: z.ZodTypeAny): boolean => {
  while (t instanceof z.ZodDefault || t instanceof z.ZodNullable || t instanceof z.ZodOptional) t = t._def.innerType;
  return t instanceof z.ZodNumber;
};

const methods = listMethods();

test('the registry holds every method, each with options that parse from nothing', () => {
  assert.ok(methods.length >= 23, `${methods.length} methods registered`);
  for (const name of methods) {
    const e = methodEntry(name);
    assert.ok(e.options instanceof z.ZodType, `${name}: options is a zod schema`);
    assert.deepEqual(parseMethodOptions(name, {}), methodDefaults(name), `${name}: defaults come from the schema`);
    assert.ok(methodOptionDocs(name).length >= 1, `${name}: options documented`);
  }
});

for (const name of methods) {
  test(`${name}: unknown key, string for a number, and a bad value of every option are refused by key`, () => {
    assert.throws(() => parseMethodOptions(name, { noSuchOption: 1 }), (e: Error) => {
      assert.match(e.message, new RegExp(`method '${name}': options: unknown key 'noSuchOption'`));
      return true;
    });
    let numbers = 0, checked = 0;
    for (const { fixed, shape } of branches(methodEntry(name).options)) {
      for (const [key, t] of Object.entries(shape)) {
        if (key in fixed) {   // the mode itself
          assert.throws(() => parseMethodOptions(name, { [key]: 'no-such-mode' }), new RegExp(`options\\.${key}: expected one of`));
          continue;
        }
        const bad = badValue(t);
        assert.throws(() => parseMethodOptions(name, { ...fixed, [key]: bad }), new RegExp(`method '${name}': options\\.${key}(\\.\\d+)?: `),
          `${name}.${key} = ${JSON.stringify(bad)} refused`);
        checked++;
        if (isNumber(t)) {
          numbers++;
          // numbers stay numbers: "4" is an error, not coerced
          assert.throws(() => parseMethodOptions(name, { ...fixed, [key]: '4' }), new RegExp(`options\\.${key}: expected number, got string`));
        }
      }
    }
    assert.ok(checked >= 1, `${name}: at least one option checked`);
    assert.ok(numbers >= 1, `${name}: at least one number option checked against a string`);
  });
}

test('tfkd: defaults per mode (official ResNet18 configs), keys of the other mode refused', () => {
  assert.deepEqual(parseMethodOptions('tfkd', {}), { mode: 'virtual', form: 'official', alpha: 0.1, temperature: 20, multiplier: 100, correctProb: 0.99 });
  assert.deepEqual(parseMethodOptions('tfkd', { mode: 'self' }), { mode: 'self', alpha: 0.95, temperature: 6, multiplier: 50, reduction: 'mean' });
  assert.deepEqual(parseMethodOptions('tfkd', { mode: 'self', alpha: 0.5 }), { mode: 'self', alpha: 0.5, temperature: 6, multiplier: 50, reduction: 'mean' });
  assert.throws(() => parseMethodOptions('tfkd', { mode: 'self', form: 'paper' }), /unknown key 'form'/);
  assert.throws(() => parseMethodOptions('tfkd', { mode: 'virtual', reduction: 'sum' }), /unknown key 'reduction'/);
  const docs = Object.fromEntries(methodOptionDocs('tfkd').map((d) => [d.key, d]));
  assert.equal(docs.mode.default, "'virtual'");
  assert.equal(docs.alpha.default, '0.1 (virtual), 0.95 (self)');
  assert.match(docs.reduction.type, /mode 'self' only/);
});

test('ranges: messages name what was expected; cross-key rules (ofa eps per stage)', () => {
  assert.throws(() => parseMethodOptions('kd', { temperature: -1 }), /^Error: method 'kd': options\.temperature: expected a positive number$/);
  assert.throws(() => parseMethodOptions('kd', { kdWeight: -0.5 }), /options\.kdWeight: expected a number >= 0/);
  assert.throws(() => parseMethodOptions('deit', { alpha: 1.5 }), /options\.alpha: expected a number in \[0, 1\]/);
  assert.throws(() => parseMethodOptions('ce', { labelSmoothing: 1 }), /options\.labelSmoothing: expected a number in \[0, 1\)/);
  assert.throws(() => parseMethodOptions('crd', { nceK: 10.5 }), /options\.nceK: expected integer, got float/);
  assert.throws(() => parseMethodOptions('ifkd', { layers: [0.5] }), /options\.layers\.0: expected integer, got float/);
  assert.throws(() => parseMethodOptions('ofa', { stages: [1, 2], eps: [1, 1] }), /options\.eps: expected 1 value or 3/);
  assert.deepEqual((parseMethodOptions('ofa', { stages: [1, 2], eps: [1, 1, 1.5] }) as { eps: number[] }).eps, [1, 1, 1.5]);
  assert.throws(() => parseMethodOptions('coadvise', { weights: [1, 1] }), /options\.weights/);
  assert.throws(() => parseMethodOptions('kd', { temprature: 2 }), /unknown key 'temprature' for method 'kd' \(did you mean 'temperature'\?\)/);
});
