// Golden `model` cases that name a registered civet model (createModel's names) with weights under
// civet's own state-dict names: built with the case's options, weights loaded strictly, eval-mode logits.
import { Tensor, noGrad } from '../../tensor';
import type { GoldenCase } from '../golden';
import { createModel, modelEntry } from '../../models/registry';
import { loadWeights } from '../../interop/weights';
import '../../models';

export function isCivetModel(name: string): boolean { return modelEntry(name) !== undefined; }

export function evaluateCivetModel(c: GoldenCase, weightsPath: string, input: Tensor): Tensor {
  const model = createModel(c.name, (c.options ?? {}) as Record<string, unknown>);
  try {
    loadWeights(model, weightsPath);
    model.eval();
    return noGrad(() => model.forward(input));
  } finally {
    model.dispose();
  }
}
