// `civet methods [NAME]`: every distillation method with its one-line summary, teachers and
// options (type and range, default), read from the option schemas the configs are checked against.
import type { Command } from './commands';
import { listMethods, methodEntry, methodOptionDocs, hasMethod, unknownMethodMessage } from '../distill/registry';
import '../distill';

function teachersText(t: [number, number]): string {
  return t[0] === t[1] ? String(t[0]) : `${t[0]}–${t[1]}`;
}

export function describeMethod(name: string): string {
  const e = methodEntry(name);
  const docs = methodOptionDocs(name);
  const w = Math.max(...docs.map((d) => d.key.length)), tw = Math.max(...docs.map((d) => d.type.length));
  const lines = [`${name} — ${e.summary}`, `  teachers: ${teachersText(e.teachers)}${e.batches === 'classPairs' ? '; batches: B samples + B same-class partners' : ''}`, '  options:'];
  for (const d of docs) lines.push(`    ${d.key.padEnd(w)}  ${d.type.padEnd(tw)}  default ${d.default}`);
  return lines.join('\n');
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
