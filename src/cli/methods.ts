// `civet methods [NAME]`: every distillation method with its one-line summary, teachers and
// options (type and range, default), read from the option schemas the configs are checked against.
import type { Command } from './commands';
import { z, type ZodTypeAny } from 'zod';
import { listMethods, methodEntry, hasMethod, unknownMethodMessage, type MethodEntry } from '../distill/registry';
import { describeOptions } from '../distill/options';
import '../distill';

function teachersText(t: [number, number]): string {
  return t[0] === t[1] ? String(t[0]) : `${t[0]}–${t[1]}`;
}

/** Per-option descriptions a schema carries (zod `.describe()`), by key; modes' branches merged. */
export function optionDescriptions(schema: ZodTypeAny): Map<string, string> {
  let t = schema;
  while (t instanceof z.ZodEffects) t = t.innerType();
  const shapes: z.ZodRawShape[] = t instanceof z.ZodObject ? [t.shape] : t instanceof z.ZodDiscriminatedUnion ? [...t.options].map((b: any) => b.shape) : [];
  const out = new Map<string, string>();
  for (const sh of shapes) {
    for (const [k, v] of Object.entries(sh)) {
      // .describe() may sit on the default wrapper or on the type inside it
      const d = v.description ?? (v instanceof z.ZodDefault ? v._def.innerType.description : undefined);
      if (d && !out.has(k)) out.set(k, d);
    }
  }
  return out;
}

/** A method's entry as `civet methods` prints it: summary, teachers, every option's type, range, default (and description). */
export function describeEntry(e: Pick<MethodEntry, 'name' | 'summary' | 'teachers' | 'options' | 'batches'>): string {
  const docs = describeOptions(e.options);
  const about = optionDescriptions(e.options);
  const w = Math.max(0, ...docs.map((d) => d.key.length)), tw = Math.max(0, ...docs.map((d) => d.type.length)), dw = Math.max(0, ...docs.map((d) => d.default.length));
  const lines = [`${e.name} — ${e.summary}`, `  teachers: ${teachersText(e.teachers)}${e.batches === 'classPairs' ? '; batches: B samples + B same-class partners' : ''}`, docs.length ? '  options:' : '  options: none'];
  for (const d of docs) {
    const text = about.get(d.key);
    lines.push(`    ${d.key.padEnd(w)}  ${d.type.padEnd(tw)}  ${text ? `default ${d.default.padEnd(dw)}  ${text}` : `default ${d.default}`}`);
  }
  return lines.join('\n');
}

export function describeMethod(name: string): string {
  return describeEntry(methodEntry(name));
}

export const methodsCommand: Command = {
  summary: 'list the distillation methods with their options, defaults and ranges',
  usage: `civet methods [NAME]

Without NAME: every registered method, its summary, teachers and options. With NAME: that one.
Set options in a config under method: { name: NAME, options: { ... } } or with
--set method.options.KEY=VALUE; they are checked against these types before any work starts.`,
  options: {},
  async run(_v, pos) {
    if (pos.length > 1) { process.stderr.write('civet methods: give at most one method name\n'); return 2; }
    if (pos.length === 1 && !hasMethod(pos[0])) { process.stderr.write(`civet methods: ${unknownMethodMessage(pos[0])}\n`); return 2; }
    const names = pos.length ? pos : listMethods();
    process.stdout.write(names.map(describeMethod).join('\n\n') + '\n');
    return 0;
  },
};
