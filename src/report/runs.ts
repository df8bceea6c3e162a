// Load what a report needs from a run directory. Everything is optional: a run killed early may
// have only a partial metrics.jsonl and no summary.json, and the report should still show it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetrics, type EvalRecord, type TrainRecord } from '../train/metrics';

export interface RunData {
  dir: string;
  name: string;
  method?: string;
  model?: string;
  train: TrainRecord[];
  evals: EvalRecord[];
  summary: Record<string, unknown>;
  config: Record<string, unknown>;
  /** Problems worth showing on the page (missing or damaged files). */
  warnings: string[];
}

/** The table row derived from a run; undefined where the run does not say. */
export interface RunRow {
  name: string;
  method?: string;
  model?: string;
  bestTop1?: number;
  finalTop1?: number;
  top5?: number;
  ece?: number;
  params?: number;
  wallTimeSec?: number;
  imgPerSec?: number;
}

function readJson(file: string, warnings: string[]): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    warnings.push(`${path.basename(file)} is not a JSON object`);
  } catch (err) {
    warnings.push(`${path.basename(file)} unreadable: ${(err as Error).message}`);
  }
  return {};
}

/** First defined value among dotted paths, e.g. pick(cfg, 'method', 'distill.method'). */
function pick(obj: Record<string, unknown>, ...paths: string[]): unknown {
  for (const p of paths) {
    let v: unknown = obj;
    for (const k of p.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A model may be named by a string or described by an object with a name-like field. */
function label(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') return label(pick(v as Record<string, unknown>, 'name', 'arch', 'type', 'kind'));
  return undefined;
}

export function loadRun(dir: string): RunData {
  const warnings: string[] = [];
  const summary = readJson(path.join(dir, 'summary.json'), warnings);
  const config = readJson(path.join(dir, 'config.json'), warnings);
  const train: TrainRecord[] = [];
  const evals: EvalRecord[] = [];
  const mfile = path.join(dir, 'metrics.jsonl');
  if (fs.existsSync(mfile)) {
    try {
      const { records, truncated, skipped } = readMetrics(mfile, { skipBad: true });
      if (truncated) warnings.push('metrics.jsonl ends in a partial line (run killed?)');
      // one damaged line costs that record only, not every curve of the run
      if (skipped.length) warnings.push(`metrics.jsonl line${skipped.length === 1 ? '' : 's'} ${skipped.join(', ')} ${skipped.length === 1 ? 'is' : 'are'} not a JSON record; skipped (the curves show every other record)`);
      for (const r of records) {
        if (r.kind === 'train' && typeof r.step === 'number') train.push(r as TrainRecord);
        else if (r.kind === 'eval' && typeof r.epoch === 'number') evals.push(r as EvalRecord);
      }
    } catch (err) {
      warnings.push(`metrics.jsonl unreadable: ${(err as Error).message}`);
    }
  } else {
    warnings.push('no metrics.jsonl');
  }
  const name = label(pick(summary, 'name', 'run')) ?? label(pick(config, 'name', 'run')) ?? path.basename(path.resolve(dir));
  const method = label(pick(summary, 'method')) ?? label(pick(config, 'method', 'distill.method', 'distill.kind', 'distill'));
  const model = label(pick(summary, 'model', 'student')) ?? label(pick(config, 'model', 'student.model', 'student'));
  return { dir, name, method, model, train, evals, summary, config, warnings };
}

const median = (xs: number[]): number | undefined => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** summary.json wins where it has a value (it may hold a final full-set eval); metrics fill gaps. */
export function runRow(r: RunData): RunRow {
  const top1s = r.evals.map((e) => e.top1).filter((v): v is number => num(v) !== undefined);
  const last = r.evals[r.evals.length - 1];
  return {
    name: r.name,
    method: r.method,
    model: r.model,
    bestTop1: num(pick(r.summary, 'bestTop1', 'best_top1')) ?? (top1s.length ? Math.max(...top1s) : undefined),
    finalTop1: num(pick(r.summary, 'top1', 'finalTop1', 'final_top1')) ?? num(last?.top1),
    top5: num(pick(r.summary, 'top5', 'finalTop5')) ?? num(last?.top5),
    ece: num(pick(r.summary, 'ece')) ?? num(last?.ece),
    params: num(pick(r.summary, 'params', 'numParams', 'studentParams')) ?? num(pick(r.config, 'params')),
    wallTimeSec: num(pick(r.summary, 'wallTimeSec', 'wallTime', 'wall_time_s', 'seconds')),
    // Median, so the warm-up steps (cuDNN autotuning, first-batch allocation) do not drag it down.
    imgPerSec: num(pick(r.summary, 'imgPerSec', 'imagesPerSec')) ?? median(r.train.map((t) => t.imgPerSec).filter((v): v is number => num(v) !== undefined)),
  };
}
