// Maps each golden `op` case name to the civet call that PyTorch's function corresponds to.
import { Tensor, F } from '../tensor';

type OpFn = (x: Record<string, Tensor>, o: Record<string, any>) => Tensor;

export const OP_CASES: Record<string, OpFn> = {
  conv2d: (x, o) => F.conv2d(x.input, x.weight, x.bias, o),
  linear: (x) => F.linear(x.input, x.weight, x.bias),
  layer_norm: (x, o) => F.layer_norm(x.input, o.normalized_shape, { weight: x.weight, bias: x.bias, eps: o.eps }),
  batch_norm: (x, o) => F.batch_norm(x.input, x.running_mean, x.running_var, { weight: x.weight, bias: x.bias, ...o }),
  group_norm: (x, o) => F.group_norm(x.input, o.num_groups, { weight: x.weight, bias: x.bias, eps: o.eps }),
  softmax: (x, o) => F.softmax(x.input, o.dim),
  log_softmax: (x, o) => F.log_softmax(x.input, o.dim),
  gelu: (x, o) => F.gelu(x.input, o),
  relu: (x) => F.relu(x.input),
  sigmoid: (x) => F.sigmoid(x.input),
  tanh: (x) => F.tanh(x.input),
  silu: (x) => F.silu(x.input),
  max_pool2d: (x, o) => F.max_pool2d(x.input, o.kernel_size, o),
  avg_pool2d: (x, o) => F.avg_pool2d(x.input, o.kernel_size, o),
  adaptive_avg_pool2d: (x, o) => F.adaptive_avg_pool2d(x.input, o.output_size),
  unfold: (x, o) => F.unfold(x.input, o.kernel_size, o),
  interpolate: (x, o) => F.interpolate(x.input, o),
  matmul: (x) => x.input.matmul(x.other),
  cross_entropy: (x, o) => F.cross_entropy(x.input, x.target, o),
  kl_div: (x, o) => F.kl_div(x.input, x.target, o),
  mse_loss: (x, o) => F.mse_loss(x.input, x.target, o),
  smooth_l1_loss: (x, o) => F.smooth_l1_loss(x.input, x.target, o),
  normalize: (x, o) => F.normalize(x.input, o),
  cdist: (x, o) => F.cdist(x.x1, x.x2, o.p ?? 2),
  cosine_similarity: (x, o) => F.cosine_similarity(x.x1, x.x2, o.dim ?? 1, o.eps ?? 1e-8),
  logsumexp: (x, o) => x.input.logsumexp(o.dim, o.keepdim ?? false),
  var: (x, o) => x.input.var(o.dim, { unbiased: o.unbiased, keepdim: o.keepdim }),
  std: (x, o) => x.input.std(o.dim, { unbiased: o.unbiased, keepdim: o.keepdim }),
};
