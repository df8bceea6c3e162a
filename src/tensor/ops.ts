// Free functions over several tensors (torch.cat, torch.where, …).
import { native } from './native';
import { Tensor, TensorOrScalar } from './tensor';

const T = (x: any) => new Tensor(x);
const hs = (ts: Tensor[]) => ts.map((t) => t.handle);
const h = (x: TensorOrScalar) => (x instanceof Tensor ? x.handle : x);

export function cat(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('cat: expected a non-empty list of tensors');
  return T(native.cat(hs(tensors), dim));
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: expected a non-empty list of tensors');
  return T(native.stack(hs(tensors), dim));
}
export function where(condition: Tensor, input: TensorOrScalar, other: TensorOrScalar): Tensor {
  return T(native.where(condition.handle, h(input), h(other)));
}
export function einsum(equation: string, ...operands: Tensor[]): Tensor { return T(native.einsum(equation, hs(operands))); }
export function matmul(a: Tensor, b: Tensor): Tensor { return a.matmul(b); }
export function bmm(a: Tensor, b: Tensor): Tensor { return a.bmm(b); }
/** beta·input + alpha·(batch1 @ batch2) */
export function baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, o: { beta?: number; alpha?: number } = {}): Tensor {
  return T(native.baddbmm(input.handle, batch1.handle, batch2.handle, o.beta ?? 1, o.alpha ?? 1));
}
export function addmm(input: Tensor, mat1: Tensor, mat2: Tensor, o: { beta?: number; alpha?: number } = {}): Tensor {
  return T(native.addmm(input.handle, mat1.handle, mat2.handle, o.beta ?? 1, o.alpha ?? 1));
}
export function minimum(a: Tensor, b: TensorOrScalar): Tensor { return a.minimum(b); }
export function maximum(a: Tensor, b: TensorOrScalar): Tensor { return a.maximum(b); }
