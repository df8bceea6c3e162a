// Golden `op` cases whose PyTorch name is a tensor method rather than an F function.
import { Tensor } from '../../tensor';

type OpFn = (x: Record<string, Tensor>, o: Record<string, any>) => Tensor;

export const TENSOR_METHOD_CASES: Record<string, OpFn> = {
  matmul: (x) => x.input.matmul(x.other),
  logsumexp: (x, o) => x.input.logsumexp(o.dim, o.keepdim ?? false),
  var: (x, o) => x.input.var(o.dim, { unbiased: o.unbiased, keepdim: o.keepdim }),
  std: (x, o) => x.input.std(o.dim, { unbiased: o.unbiased, keepdim: o.keepdim }),
};
