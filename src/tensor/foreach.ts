// Multi-tensor ops over lists of tensors (libtorch's at::_foreach_*, native/src/foreach.cc), for
// the optimizers: one native call per list instead of one per parameter — on CUDA one kernel
// launch per chunk of tensors, on CPU the same per-tensor kernels as the single-tensor ops (so
// results are bit-identical to them). The in-place ones return nothing, like torch's.
import { native } from './native';
import { Tensor } from './tensor';

const hs = (ts: Tensor[]) => ts.map((t) => t.handle);
const wrap = (hl: ReturnType<typeof native.foreachSqrt>) => hl.map((x) => new Tensor(x));

/** self[i] += alpha·other[i] (tensors) or self[i] += other (a scalar) */
export function foreachAdd_(self: Tensor[], other: Tensor[] | number, alpha = 1): void {
  if (!self.length) return;
  if (typeof other === 'number') native.foreachAdd_(hs(self), other);
  else native.foreachAdd_(hs(self), hs(other), alpha);
}
/** new tensors self[i] + alpha·other[i] */
export function foreachAdd(self: Tensor[], other: Tensor[], alpha = 1): Tensor[] {
  return self.length ? wrap(native.foreachAdd(hs(self), hs(other), alpha)) : [];
}
export function foreachMul_(self: Tensor[], scalar: number): void { if (self.length) native.foreachMul_(hs(self), scalar); }
export function foreachDiv_(self: Tensor[], scalar: number): void { if (self.length) native.foreachDiv_(hs(self), scalar); }
/** self[i] += value·t1[i]·t2[i] */
export function foreachAddcmul_(self: Tensor[], t1: Tensor[], t2: Tensor[], value = 1): void { if (self.length) native.foreachAddcmul_(hs(self), hs(t1), hs(t2), value); }
/** self[i] += value·t1[i]/t2[i] */
export function foreachAddcdiv_(self: Tensor[], t1: Tensor[], t2: Tensor[], value = 1): void { if (self.length) native.foreachAddcdiv_(hs(self), hs(t1), hs(t2), value); }
/** new tensors sqrt(self[i]) */
export function foreachSqrt(self: Tensor[]): Tensor[] { return self.length ? wrap(native.foreachSqrt(hs(self))) : []; }

/** Whether this libtorch has the single-kernel AdamW update (_fused_adamw_, libtorch 2.1+; CUDA). */
export function fusedAdamWAvailable(): boolean { return native.fusedAdamWAvailable === true; }
