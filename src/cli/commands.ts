// Command table for the CLI: options (node:util parseArgs format), usage text and the runner.
import type { ParseArgsConfig } from 'node:util';
import { conformanceCommand } from './conformance';
import { benchCommand } from './bench';
import { demoCommand } from './demo';
import { infoCommand } from './info';
import { trainCommand } from './train';
import { evalCommand } from './eval';
import { reportCommand } from './report';
import { studyCommand } from './study';
import { methodsTableCommand } from './methods_table';
import { methodsCommand } from './methods';
import { exportCommand } from './export';
import { predictCommand } from './predict';
import { serveCommand } from './serve';
import { importCommand } from './import';
import { cacheCommand } from './cache';

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, any>, positionals: string[]): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  train: trainCommand,
  eval: evalCommand,
  export: exportCommand,
  predict: predictCommand,
  serve: serveCommand,
  import: importCommand,
  cache: cacheCommand,
  report: reportCommand,
  study: studyCommand,
  methods: methodsCommand,
  'methods-table': methodsTableCommand,
  demo: demoCommand,
  conformance: conformanceCommand,
  bench: benchCommand,
  info: infoCommand,
};
