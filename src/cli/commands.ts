// Command table for the CLI: options (node:util parseArgs format), usage text and the runner.
import type { ParseArgsConfig } from 'node:util';
import { conformanceCommand } from './conformance';
import { benchCommand } from './bench';
import { demoCommand } from './demo';
import { infoCommand } from './info';

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, any>, positionals: string[]): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  demo: demoCommand,
  conformance: conformanceCommand,
  bench: benchCommand,
  info: infoCommand,
};
