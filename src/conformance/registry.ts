// Case evaluators that other parts of civet register (losses from distill/, models from models/),
// so the runner grows with the library without importing everything itself.
import type { Tensor } from '../tensor';
import type { GoldenCase } from './golden';

/** Returns the scalar loss; inputs named as in the golden file. */
export type LossFn = (inputs: Record<string, any /* Tensor | Tensor[] */>, options: Record<string, any>) => Tensor;
/** Builds the model from the case (weights path resolved against the golden file) and returns eval-mode logits. */
export type ModelFn = (c: GoldenCase, weightsPath: string, input: Tensor) => Tensor;

export const LOSS_CASES = new Map<string, LossFn>();
export const MODEL_CASES = new Map<string, ModelFn>();

export function registerLossCase(name: string, fn: LossFn): void { LOSS_CASES.set(name, fn); }
export function registerModelCase(name: string, fn: ModelFn): void { MODEL_CASES.set(name, fn); }
