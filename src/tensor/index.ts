// civet's tensor engine: the public surface.
export { Tensor, DisposedTensorError } from './tensor';
export type { Scalar, TensorOrScalar, Shape, ValuesIndices } from './tensor';
export type { DType } from './dtype';
export * from './creation';
export * from './ops';
export * from './runtime';
export { tidy, keep, dispose, liveTensors } from './scope';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled, grad } from './autograd';
export * as F from './functional';
export * as foreach from './foreach';
