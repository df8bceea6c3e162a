// timm-style model registry: createModel(name, opts). Each model file registers its names.
import type { Module, StageInfo } from '../nn/module';
import type { Tensor } from '../tensor';

export interface ModelOptions {
  numClasses?: number;
  imgSize?: number;
  inChans?: number;
  dropRate?: number;
  dropPathRate?: number;
  [key: string]: unknown;
}

/** What distillation needs from every classifier in the zoo. */
export interface Classifier extends Module {
  readonly numClasses: number;
  /** logits [N, numClasses] (ViTs with extra tokens: the inference head, e.g. the average of heads) */
  forward(x: Tensor): Tensor;
  /** the stages whose outputs feature methods tap (names are submodule paths) */
  stages(): StageInfo[];
  /** names of parameters that take no weight decay (tokens, position embeddings) */
  noWeightDecay?(): string[];
}

export interface ModelEntry {
  name: string;
  family: string;
  create: (opts: ModelOptions) => Classifier;
  /** parameter count at 224×224, 1000 classes, as published (for tests) */
  publishedParams?: number;
  description?: string;
}

const REGISTRY = new Map<string, ModelEntry>();

export function registerModel(e: ModelEntry): void {
  if (REGISTRY.has(e.name)) throw new Error(`model '${e.name}' registered twice`);
  REGISTRY.set(e.name, e);
}

export function createModel(name: string, opts: ModelOptions = {}): Classifier {
  const e = REGISTRY.get(name);
  if (!e) throw new Error(`unknown model '${name}'; registered: ${listModels().join(', ')}`);
  return e.create(opts);
}

export function listModels(family?: string): string[] {
  return [...REGISTRY.values()].filter((e) => !family || e.family === family).map((e) => e.name).sort();
}

export function modelEntry(name: string): ModelEntry | undefined { return REGISTRY.get(name); }
