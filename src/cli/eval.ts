import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from './commands';
import { loadConfig } from '../train/schema';
import { evaluateRun } from '../train/trainer';
import { buildRun } from '../train/build';
import { readCheckpoint, disposeCheckpoint } from '../train/checkpoints';

export const evalCommand: Command = {
  summary: 'evaluate a run\'s checkpoint on its test split',
  usage: `civet eval RUN_DIR [--checkpoint best|last]

Prints top-1, top-5, loss and expected calibration error of the student (with the method's
inference read-out) on the run's evaluation data.`,
  options: { checkpoint: { type: 'string', default: 'best' } },
  async run(v, pos) {
    if (pos.length !== 1) { process.stderr.write('civet eval: give one run directory\n'); return 2; }
    const runDir = path.resolve(pos[0]);
    const cfgFile = path.join(runDir, 'config.json');
    if (!fs.existsSync(cfgFile)) { process.stderr.write(`civet eval: ${runDir} is not a civet run (no config.json)\n`); return 2; }
    const { config: cfg } = loadConfig(JSON.parse(fs.readFileSync(cfgFile, 'utf8')));
    // config.json holds absolute paths (train() writes them so); the run directory is the base for any other
    const { data, distiller: d } = await buildRun(cfg, runDir, { teacherCache: false });
    const ck = readCheckpoint(path.join(runDir, 'checkpoints', v.checkpoint), { weightsOnly: true });
    d.loadStateDict(ck.weights, { source: path.join(runDir, 'checkpoints', v.checkpoint, 'model.safetensors') });
    disposeCheckpoint(ck);
    const r = evaluateRun(d, cfg, data, cfg.run.device);
    process.stdout.write(`${cfg.run.name} (${v.checkpoint}, step ${ck.state.step}): top-1 ${(100 * r.top1).toFixed(2)}%  top-5 ${(100 * r.top5).toFixed(2)}%  loss ${r.loss.toFixed(4)}  ECE ${r.ece.toFixed(4)}  (${r.n} images)\n`);
    return 0;
  },
};
