// civet's optimizers, parameter groups, gradient clipping, learning-rate schedules and model EMA.
export * from './optimizer';
export { SGD } from './sgd';
export type { SGDHyperparams, SGDOptions } from './sgd';
export { AdamW, Adam } from './adamw';
export type { AdamHyperparams, AdamOptions } from './adamw';
export * from './param_groups';
export * from './clip';
export * from './schedule';
export * from './ema';
