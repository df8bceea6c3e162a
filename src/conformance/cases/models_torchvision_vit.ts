// Conformance case 'torchvision/vit': a torchvision VisionTransformer with random weights
// (shared/reference/golden_models.py), loaded into civet's ViT through the name converter and
// compared on eval-mode logits. Requiring this file registers the case with the runner.
import { noGrad } from '../../tensor';
import { registerModelCase } from '../registry';
import { loadWeights } from '../../interop/weights';
import { convertTorchvisionVit, torchvisionVitOptions, TorchvisionVitArgs } from '../../models/vit_torchvision';
import { VisionTransformer, vitConfig } from '../../models/vit';

/** civet's ViT built as torchvision's VisionTransformer(**args), weights loaded (strictly) from a
 *  safetensors file holding a torchvision state dict. */
export function loadTorchvisionVit(args: TorchvisionVitArgs, weightsFile: string): VisionTransformer {
  const model = new VisionTransformer(vitConfig('tiny', torchvisionVitOptions(args)));
  try {
    loadWeights(model, weightsFile, { rename: convertTorchvisionVit });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

registerModelCase('torchvision/vit', (c, weightsPath, input) => {
  const model = loadTorchvisionVit(c.options as TorchvisionVitArgs, weightsPath).eval();
  try {
    return noGrad(() => model.call(input));
  } finally {
    model.dispose();
  }
});
