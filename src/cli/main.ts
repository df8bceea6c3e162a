// The `civet` command line. Each command is a thin layer over the programmatic API.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { COMMANDS } from './commands';

const USAGE = `civet — knowledge distillation of vision models over libtorch

Usage: civet <command> [options]   (civet <command> --help for details; civet --version)

Commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`).join('\n')}
`;

/** The package's version (package.json sits three levels above dist/src/cli/). */
export function civetVersion(): string {
  for (const up of ['../../..', '../..']) {
    try { return JSON.parse(fs.readFileSync(path.join(__dirname, up, 'package.json'), 'utf8')).version; } catch { /* next */ }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(`civet ${civetVersion()}\n`);
    return 0;
  }
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`civet: unknown command '${cmd}'\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...c.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e: any) {
    process.stderr.write(`civet ${cmd}: ${e.message}\n\n${c.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${c.usage}\n`);
    return 0;
  }
  try {
    return await c.run(parsed.values as Record<string, any>, parsed.positionals);
  } catch (e: any) {
    // configuration mistakes are usage errors (2); anything else is a failure (1)
    if (e?.name === 'ConfigError') { process.stderr.write(`civet ${cmd}: ${e.message}\n`); return 2; }
    throw e;
  }
}
