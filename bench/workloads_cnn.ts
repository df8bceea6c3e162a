// The resnet18-32 training step, civet's side of bench/reference/torch_bench.py --workload
// resnet18-32: torchvision's resnet18(num_classes=10) (civet's resnet18: same layers, same
// names), one fixed random batch at 3×32×32, cross-entropy, SGD(lr 0.1, momentum 0.9,
// weight decay 5e-4 on every parameter, as the reference).
import { randn, randint, tidy, F, manualSeed } from '../src/tensor';
import { SGD } from '../src/optim/sgd';
import { createModel } from '../src/models/registry';
import '../src/models/resnet';
import { workload, timeSteps } from './workloads';

export const resnet18_32 = workload('resnet18-32', 'torchvision resnet18 (10 classes, 32 px) train step, SGD', (a) => {
  manualSeed(0);
  const model = createModel('resnet18', { numClasses: a.classes }).to(a.device).train();
  const opt = new SGD(model, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const x = randn([a.batch, 3, 32, 32], { device: a.device }).keep();
  const y = randint(0, a.classes, [a.batch], { device: a.device }).keep();
  const step = () => {
    opt.zeroGrad();
    // forward in its own scope, so backward can free activations as it goes (as Python's refcounts do)
    const loss = tidy(() => F.cross_entropy(model.call(x), y));
    loss.backward();
    loss.dispose();
    opt.step();
  };
  const med = timeSteps(step, a.steps, 3);
  const out = { step_ms_median: med * 1e3, images_per_s: a.batch / med, params: model.numParameters() };
  opt.dispose(); model.dispose(); x.dispose(); y.dispose();
  return out;
});
