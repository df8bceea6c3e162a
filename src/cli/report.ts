import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from './commands';
import { writeReport } from '../report/html';

export const reportCommand: Command = {
  summary: 'write one self-contained HTML page comparing runs',
  usage: `civet report RUN_DIR... [--out FILE] [--title TEXT]

Loss, per-term, accuracy and learning-rate curves and a comparison table of the runs given.`,
  options: { out: { type: 'string', default: 'report.html' }, title: { type: 'string' } },
  async run(v, pos) {
    if (pos.length === 0) { process.stderr.write('civet report: give at least one run directory\n'); return 2; }
    // a path that is not a run directory would give an empty page: refuse it instead
    const bad = pos.filter((p) => !fs.existsSync(path.join(p, 'config.json')) && !fs.existsSync(path.join(p, 'metrics.jsonl')));
    if (bad.length) { process.stderr.write(bad.map((p) => `civet report: ${p}: ${fs.existsSync(p) ? 'not a civet run directory (no config.json or metrics.jsonl)' : 'no such directory'}\n`).join('')); return 2; }
    const out = path.resolve(v.out);
    writeReport(pos.map((p) => path.resolve(p)), out, v.title);
    process.stdout.write(`report: ${out}\n`);
    return 0;
  },
};
