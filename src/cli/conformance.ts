import type { Command } from './commands';
import { runConformance } from '../conformance/runner';

export const conformanceCommand: Command = {
  summary: 'check civet against PyTorch golden files',
  usage: `civet conformance FILE...

Evaluates every case of the golden files (format: test/fixtures/golden/README.md) through
civet's public API and compares outputs, in-place state and gradients with PyTorch's values.
Prints a line per failing case, counts per kind, and last "N passed, N failed, N skipped".
Exit status 1 when any case failed, 2 on a usage error.`,
  options: {},
  async run(_v, files) {
    if (files.length === 0) { process.stderr.write('civet conformance: give at least one golden file\n'); return 2; }
    const s = runConformance(files, (l) => process.stdout.write(l + '\n'));
    return s.failed > 0 ? 1 : 0;
  },
};
