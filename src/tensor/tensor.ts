// The Tensor: a handle on a libtorch tensor plus typed methods. Methods are thin: each is one
// native call; argument names and defaults follow PyTorch's Tensor methods.
import { native, UNARY, BINARY, Handle, type GeneratorHandle} from './native';
import { DType, dtypeCode, dtypeName, typedView, AnyTypedArray, isFloating } from './dtype';
import { track, forget, unscoped } from './scope';

export type Scalar = number | boolean;
export type TensorOrScalar = Tensor | Scalar;
export type Shape = number[];

function h(x: TensorOrScalar): any {
  if (x instanceof Tensor) return x.handle;
  if (typeof x === 'number' || typeof x === 'boolean') return x;
  throw new TypeError(`expected a Tensor or a number, got ${describe(x)}`);
}
/** The handle of an argument that must be a tensor, with an error naming it otherwise. */
export function th(x: Tensor, what: string): Handle {
  if (x instanceof Tensor) return x.handle;
  throw new TypeError(`${what}: expected a Tensor, got ${describe(x)}`);
}
function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === 'object') return Array.isArray(x) ? 'an array' : `an object (${x.constructor?.name ?? 'Object'})`;
  return `${typeof x} ${String(x)}`;
}

export class DisposedTensorError extends Error {
  constructor() {
    super('tensor used after dispose(): it was freed explicitly or by the tidy() scope that created it (keep() it or return it from tidy to use it later)');
    this.name = 'DisposedTensorError';
  }
}

export interface ValuesIndices { values: Tensor; indices: Tensor }

export class Tensor {
  /** @internal native handle; null once disposed */
  _h: Handle | null;
  /** survives enclosing tidy() scopes */
  kept = false;
  /** @internal registered with the FinalizationRegistry */
  _finalized = false;
  private _shape: Shape | undefined;
  declare readonly __isTensor: true;

  /** @internal wrap a native handle (use the creation functions instead) */
  constructor(handle: Handle) {
    this._h = handle;
    track(this);
  }

  get handle(): Handle {
    const x = this._h;
    if (x === null) throw new DisposedTensorError();
    return x;
  }

  // ---- metadata -------------------------------------------------------------------------
  get shape(): Shape {
    return (this._shape ??= native.shape(this.handle));
  }
  size(dim?: number): number | Shape {
    if (dim === undefined) return this.shape.slice();
    const s = this.shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`size(${dim}): dimension out of range for a ${s.length}-d tensor`);
    return s[d];
  }
  get ndim(): number { return this.shape.length; }
  dim(): number { return this.shape.length; }
  numel(): number { return this.shape.reduce((a, b) => a * b, 1); }
  get dtype(): DType { return dtypeName(native.dtype(this.handle)); }
  get device(): string { return native.device(this.handle); }
  get requiresGrad(): boolean { return native.requiresGrad(this.handle); }
  set requiresGrad(v: boolean) { native.setRequiresGrad(this.handle, v); }
  get isLeaf(): boolean { return native.isLeaf(this.handle); }
  isContiguous(): boolean { return native.isContiguous(this.handle); }
  strides(): number[] { return native.strides(this.handle); }
  get isDisposed(): boolean { return this._h === null; }

  // ---- lifetime ---------------------------------------------------------------------------
  dispose(): void {
    if (this._h !== null) {
      forget(this);
      native.dispose(this._h);
      this._h = null;
    }
  }
  [Symbol.dispose](): void { this.dispose(); }
  /** Survive enclosing tidy() scopes (the caller frees it). */
  keep(): this { this.kept = true; unscoped(this); return this; }

  // ---- elementwise ------------------------------------------------------------------------
  private u(op: number): Tensor { return new Tensor(native.unary(this.handle, op)); }
  add(other: TensorOrScalar, alpha?: number): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.add, alpha)); }
  sub(other: TensorOrScalar, alpha?: number): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.sub, alpha)); }
  mul(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.mul)); }
  div(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.div)); }
  pow(exponent: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(exponent), BINARY.pow)); }
  /** scalar - this, scalar / this, scalar ** this */
  rsub(other: Scalar): Tensor { return new Tensor(native.binary(other, this.handle, BINARY.sub)); }
  rdiv(other: Scalar): Tensor { return new Tensor(native.binary(other, this.handle, BINARY.div)); }
  minimum(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.minimum)); }
  maximum(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.maximum)); }
  eq(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.eq)); }
  ne(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.ne)); }
  lt(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.lt)); }
  le(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.le)); }
  gt(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.gt)); }
  ge(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.ge)); }
  logicalAnd(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.logical_and)); }
  logicalOr(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.logical_or)); }
  logicalXor(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.logical_xor)); }
  remainder(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.remainder)); }
  fmod(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.fmod)); }
  atan2(other: Tensor): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.atan2)); }
  floorDivide(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.floor_divide)); }
  xlogy(other: TensorOrScalar): Tensor { return new Tensor(native.binary(this.handle, h(other), BINARY.xlogy)); }
  matmul(other: Tensor): Tensor { return new Tensor(native.binary(this.handle, th(other, 'matmul'), BINARY.matmul)); }
  mm(other: Tensor): Tensor { return new Tensor(native.binary(this.handle, th(other, 'mm'), BINARY.mm)); }
  bmm(other: Tensor): Tensor { return new Tensor(native.binary(this.handle, th(other, 'bmm'), BINARY.bmm)); }
  outer(other: Tensor): Tensor { return new Tensor(native.binary(this.handle, th(other, 'outer'), BINARY.outer)); }
  neg(): Tensor { return this.u(UNARY.neg); }
  abs(): Tensor { return this.u(UNARY.abs); }
  exp(): Tensor { return this.u(UNARY.exp); }
  log(): Tensor { return this.u(UNARY.log); }
  log2(): Tensor { return this.u(UNARY.log2); }
  sqrt(): Tensor { return this.u(UNARY.sqrt); }
  rsqrt(): Tensor { return this.u(UNARY.rsqrt); }
  sigmoid(): Tensor { return this.u(UNARY.sigmoid); }
  tanh(): Tensor { return this.u(UNARY.tanh); }
  relu(): Tensor { return this.u(UNARY.relu); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return this.u(approximate === 'tanh' ? UNARY.gelu_tanh : UNARY.gelu); }
  silu(): Tensor { return this.u(UNARY.silu); }
  sin(): Tensor { return this.u(UNARY.sin); }
  cos(): Tensor { return this.u(UNARY.cos); }
  floor(): Tensor { return this.u(UNARY.floor); }
  ceil(): Tensor { return this.u(UNARY.ceil); }
  round(): Tensor { return this.u(UNARY.round); }
  trunc(): Tensor { return this.u(UNARY.trunc); }
  sign(): Tensor { return this.u(UNARY.sign); }
  reciprocal(): Tensor { return this.u(UNARY.reciprocal); }
  log1p(): Tensor { return this.u(UNARY.log1p); }
  expm1(): Tensor { return this.u(UNARY.expm1); }
  erf(): Tensor { return this.u(UNARY.erf); }
  square(): Tensor { return this.u(UNARY.square); }
  logicalNot(): Tensor { return this.u(UNARY.logical_not); }
  isnan(): Tensor { return this.u(UNARY.isnan); }
  isinf(): Tensor { return this.u(UNARY.isinf); }
  isfinite(): Tensor { return this.u(UNARY.isfinite); }
  contiguous(): Tensor { return this.u(UNARY.contiguous); }
  clone(): Tensor { return this.u(UNARY.clone); }
  detach(): Tensor { return this.u(UNARY.detach); }
  t(): Tensor { return this.u(UNARY.t); }
  clamp(min?: number | null, max?: number | null): Tensor { return new Tensor(native.clamp(this.handle, min, max)); }
  clampMin(min: number): Tensor { return this.clamp(min, null); }
  clampMax(max: number): Tensor { return this.clamp(null, max); }

  // ---- reductions ---------------------------------------------------------------------------
  private red(op: string, dim: number | number[] | undefined | null, keepdim = false, extra?: number | null): Tensor {
    return new Tensor(native.reduce(this.handle, op, dim ?? null, keepdim, extra));
  }
  sum(dim?: number | number[] | null, keepdim = false, dtype?: DType): Tensor { return this.red('sum', dim, keepdim, dtype ? dtypeCode(dtype) : null); }
  mean(dim?: number | number[] | null, keepdim = false): Tensor { return this.red('mean', dim, keepdim); }
  /** correction: 1 = unbiased (default, as torch), 0 = population */
  var(dim?: number | number[] | null, opts: { correction?: number; unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return this.red('var', dim, opts.keepdim ?? false, opts.correction ?? (opts.unbiased === false ? 0 : 1));
  }
  std(dim?: number | number[] | null, opts: { correction?: number; unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return this.red('std', dim, opts.keepdim ?? false, opts.correction ?? (opts.unbiased === false ? 0 : 1));
  }
  prod(dim?: number, keepdim = false): Tensor { return this.red('prod', dim, keepdim); }
  all(dim?: number, keepdim = false): Tensor { return this.red('all', dim, keepdim); }
  any(dim?: number, keepdim = false): Tensor { return this.red('any', dim, keepdim); }
  amax(dim?: number | number[], keepdim = false): Tensor { return this.red('amax', dim, keepdim); }
  amin(dim?: number | number[], keepdim = false): Tensor { return this.red('amin', dim, keepdim); }
  logsumexp(dim: number | number[], keepdim = false): Tensor { return this.red('logsumexp', dim, keepdim); }
  norm(p: number = 2, dim?: number | number[] | null, keepdim = false): Tensor { return this.red('norm', dim, keepdim, p); }
  argmax(dim?: number, keepdim = false): Tensor { return this.red('argmax', dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return this.red('argmin', dim, keepdim); }
  cumsum(dim: number): Tensor { return this.red('cumsum', dim); }
  /** max over everything, or {values, indices} along dim */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): ValuesIndices;
  max(dim?: number, keepdim = false): Tensor | ValuesIndices {
    if (dim === undefined) return this.red('max', null);
    const [values, indices] = native.reduce(this.handle, 'max', dim, keepdim);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): ValuesIndices;
  min(dim?: number, keepdim = false): Tensor | ValuesIndices {
    if (dim === undefined) return this.red('min', null);
    const [values, indices] = native.reduce(this.handle, 'min', dim, keepdim);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  topk(k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
    const [values, indices] = native.topk(this.handle, k, dim, largest, sorted);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  sort(dim = -1, descending = false, stable = false): ValuesIndices {
    const [values, indices] = native.sort(this.handle, dim, descending, stable);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }

  // ---- shape and indexing -------------------------------------------------------------------
  reshape(...shape: (number | Shape)[]): Tensor { return new Tensor(native.reshape(this.handle, flatShape(shape))); }
  view(...shape: (number | Shape)[]): Tensor { return new Tensor(native.view(this.handle, flatShape(shape))); }
  permute(...dims: (number | number[])[]): Tensor { return new Tensor(native.permute(this.handle, flatShape(dims))); }
  transpose(dim0: number, dim1: number): Tensor { return new Tensor(native.transpose(this.handle, dim0, dim1)); }
  flatten(startDim = 0, endDim = -1): Tensor { return new Tensor(native.flatten(this.handle, startDim, endDim)); }
  squeeze(dim?: number): Tensor { return new Tensor(native.squeeze(this.handle, dim)); }
  unsqueeze(dim: number): Tensor { return new Tensor(native.unsqueeze(this.handle, dim)); }
  expand(...shape: (number | Shape)[]): Tensor { return new Tensor(native.expand(this.handle, flatShape(shape))); }
  expandAs(other: Tensor): Tensor { return this.expand(other.shape); }
  repeat(...repeats: (number | Shape)[]): Tensor { return new Tensor(native.repeat(this.handle, flatShape(repeats))); }
  narrow(dim: number, start: number, length: number): Tensor { return new Tensor(native.narrow(this.handle, dim, start, length)); }
  /** Python's t[..., start:end:step] along dim */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start, end, step));
  }
  select(dim: number, index: number): Tensor { return new Tensor(native.select(this.handle, dim, index)); }
  indexSelect(dim: number, index: Tensor): Tensor { return new Tensor(native.indexSelect(this.handle, dim, th(index, 'indexSelect index'))); }
  gather(dim: number, index: Tensor): Tensor { return new Tensor(native.gather(this.handle, dim, th(index, 'gather index'))); }
  scatter(dim: number, index: Tensor, src: TensorOrScalar): Tensor { return new Tensor(native.scatter(this.handle, dim, th(index, 'scatter index'), h(src), null)); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return new Tensor(native.scatter(this.handle, dim, th(index, 'scatterAdd index'), th(src, 'scatterAdd src'), 'add')); }
  maskedFill(mask: Tensor, value: TensorOrScalar): Tensor { return new Tensor(native.maskedFill(this.handle, th(mask, 'maskedFill mask'), h(value))); }
  /** t[index] with an integer or boolean index tensor on dimension 0 */
  index(index: Tensor): Tensor { return new Tensor(native.indexTensor(this.handle, th(index, 'index'))); }
  /** Tensor.unfold: sliding windows of `size` with `step` along dim (a view) */
  unfold(dim: number, size: number, step: number): Tensor { return new Tensor(native.unfoldDim(this.handle, dim, size, step)); }
  roll(shifts: number | number[], dims: number | number[]): Tensor { return new Tensor(native.roll(this.handle, shifts, dims)); }
  flip(dims: number | number[]): Tensor { return new Tensor(native.flip(this.handle, dims)); }
  tril(diagonal = 0): Tensor { return new Tensor(native.tril(this.handle, diagonal)); }
  triu(diagonal = 0): Tensor { return new Tensor(native.triu(this.handle, diagonal)); }
  split(splitSizeOrSections: number | number[], dim = 0): Tensor[] {
    return (native.split(this.handle, splitSizeOrSections, dim) as Handle[]).map((x) => new Tensor(x));
  }
  chunk(chunks: number, dim = 0): Tensor[] { return (native.chunk(this.handle, chunks, dim) as Handle[]).map((x) => new Tensor(x)); }

  // ---- conversion ---------------------------------------------------------------------------
  to(target: DType | string | { dtype?: DType; device?: string; copy?: boolean }): Tensor {
    let dtype: DType | undefined, device: string | undefined, copy = false;
    if (typeof target === 'string') {
      if (target === 'cpu' || target.startsWith('cuda')) device = target; else dtype = target as DType;
    } else ({ dtype, device, copy = false } = target);
    return new Tensor(native.to(this.handle, dtype ? dtypeCode(dtype) : null, device ?? null, copy));
  }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  long(): Tensor { return this.to('int64'); }
  int(): Tensor { return this.to('int32'); }
  bool(): Tensor { return this.to('bool'); }
  cpu(): Tensor { return this.to({ device: 'cpu' }); }
  cuda(index = 0): Tensor { return this.to({ device: `cuda:${index}` }); }

  // ---- in place (optimizers, initializers) -------------------------------------------------
  private ip(op: string, a?: Handle | Scalar | null, b?: Handle | Scalar | null, c?: Handle | Scalar | null, d?: Handle | Scalar | null, e?: GeneratorHandle | null): this {
    native.inplace(this.handle, op, a, b, c, d, e);
    return this;
  }
  add_(other: TensorOrScalar, alpha?: number): this { return this.ip('add_', h(other), alpha); }
  sub_(other: TensorOrScalar): this { return this.ip('sub_', h(other)); }
  mul_(other: TensorOrScalar): this { return this.ip('mul_', h(other)); }
  div_(other: TensorOrScalar): this { return this.ip('div_', h(other)); }
  copy_(src: Tensor): this { return this.ip('copy_', src.handle); }
  zero_(): this { return this.ip('zero_'); }
  fill_(value: Scalar): this { return this.ip('fill_', value); }
  clamp_(min?: number | null, max?: number | null): this { return this.ip('clamp_', min, max); }
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this { return this.ip('addcmul_', t1.handle, t2.handle, value); }
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this { return this.ip('addcdiv_', t1.handle, t2.handle, value); }
  lerp_(end: Tensor, weight: TensorOrScalar): this { return this.ip('lerp_', end.handle, h(weight)); }
  sqrt_(): this { return this.ip('sqrt_'); }
  maskedFill_(mask: Tensor, value: Scalar): this { return this.ip('masked_fill_', mask.handle, value); }
  indexCopy_(dim: number, index: Tensor, src: Tensor): this { return this.ip('index_copy_', dim, index.handle, src.handle); }
  indexAdd_(dim: number, index: Tensor, src: Tensor): this { return this.ip('index_add_', dim, index.handle, src.handle); }
  requiresGrad_(v = true): this { return this.ip('requires_grad_', v); }
  normal_(mean = 0, std = 1, generator?: { handle: GeneratorHandle }): this { native.normal_(this.handle, mean, std, generator?.handle); return this; }
  uniform_(from = 0, to = 1, generator?: { handle: GeneratorHandle }): this { native.uniform_(this.handle, from, to, generator?.handle); return this; }
  bernoulli_(p = 0.5, generator?: { handle: GeneratorHandle }): this { native.bernoulli_(this.handle, p, generator?.handle); return this; }
  /** torch.nn.init.trunc_normal_ semantics (inverse-CDF sampling) */
  truncNormal_(mean = 0, std = 1, a = -2, b = 2, generator?: { handle: GeneratorHandle }): this {
    return this.ip('trunc_normal_', mean, std, a, b, generator?.handle);
  }

  // ---- autograd ----------------------------------------------------------------------------
  backward(gradient?: Tensor | null, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient ? gradient.handle : null, opts.retainGraph ?? opts.createGraph ?? false, opts.createGraph ?? false);
  }
  /** The accumulated gradient (a new handle on it each call), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) { native.setGrad(this.handle, g ? g.handle : null); }

  // ---- data out ------------------------------------------------------------------------------
  /** A copy of the data (contiguous, on the CPU) as a typed array; float16/bfloat16 as raw Uint16 bits. */
  toTypedArray(): AnyTypedArray {
    return typedView(this.dtype, native.toBytes(this.handle));
  }
  /** Float64 copy of any numeric dtype (convenient for tests and reports). */
  toFloat64Array(): Float64Array {
    const d = this.dtype;
    if (d === 'float64') return this.toTypedArray() as Float64Array;
    const t = new Tensor(native.to(this.handle, dtypeCode('float64'), 'cpu', false));
    try { return typedView('float64', native.toBytes(t.handle)) as Float64Array; } finally { t.dispose(); }
  }
  /** Nested JS arrays (numbers; booleans for bool). */
  toArray(): any {
    const flat = this.dtype === 'bool' ? Array.from(this.toTypedArray() as Uint8Array, (x) => x !== 0)
      : this.dtype === 'int64' ? Array.from(this.toTypedArray() as BigInt64Array, Number)
      : Array.from(this.toFloat64Array());
    return nest(flat, this.shape);
  }
  item(): number {
    return native.item(this.handle);
  }
  toString(): string {
    if (this._h === null) return 'tensor(<disposed>)';
    return preview(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string { return this.toString(); }
}

function flatShape(args: (number | number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return args[0];
  return args.flat() as number[];
}

function nest(flat: unknown[], shape: number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [n, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  const out = [];
  for (let i = 0; i < n; i++) out.push(nest(flat.slice(i * step, (i + 1) * step), rest));
  return out;
}

// A short printable preview: shape, dtype, device and up to a few values per row.
function preview(t: Tensor): string {
  const shape = t.shape;
  const meta = `shape=[${shape.join(', ')}], dtype=${t.dtype}${t.device === 'cpu' ? '' : `, device=${t.device}`}${t.requiresGrad ? ', requiresGrad' : ''}`;
  const n = t.numel();
  if (n === 0) return `tensor([], ${meta})`;
  let vals: number[] | boolean[];
  const limit = 6;
  if (n > 1000) {
    const flat = t.flatten();
    const head = flat.slice(0, 0, limit / 2);
    const tail = flat.slice(0, n - limit / 2, n);
    const fmt = (x: Tensor) => Array.from(isFloating(t.dtype) || t.dtype === 'int64' ? x.toFloat64Array() : (x.toTypedArray() as any), fmtNum);
    const s = `tensor([${fmt(head).join(', ')}, …, ${fmt(tail).join(', ')}], ${meta})`;
    head.dispose(); tail.dispose(); flat.dispose();
    return s;
  }
  vals = t.dtype === 'bool' ? Array.from(t.toTypedArray() as Uint8Array, (x) => x !== 0) : Array.from(t.toFloat64Array());
  const body = shape.length === 0 ? fmtNum(vals[0] as number) : fmtNested(vals as any, shape, limit);
  return `tensor(${body}, ${meta})`;
}

function fmtNum(x: number | boolean): string {
  if (typeof x === 'boolean') return String(x);
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(4) : x.toFixed(4);
}

function fmtNested(flat: (number | boolean)[], shape: number[], limit: number): string {
  if (shape.length === 1) {
    const xs = flat.map(fmtNum);
    return `[${xs.length > limit ? [...xs.slice(0, limit / 2), '…', ...xs.slice(-limit / 2)].join(', ') : xs.join(', ')}]`;
  }
  const [n, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    if (n > limit && i === limit / 2) { rows.push('…'); i = n - limit / 2 - 1; continue; }
    rows.push(fmtNested(flat.slice(i * step, (i + 1) * step), rest, limit));
  }
  return `[${rows.join(',\n ')}]`;
}

Object.defineProperty(Tensor.prototype, '__isTensor', { value: true });

export interface Tensor {
  /** @internal take over another tensor's native handle (used by Module.to so references stay valid) */
  _swap(other: Tensor): void;
}
Tensor.prototype._swap = function (this: Tensor, other: Tensor) {
  const old = this._h;
  const wasFinalized = this._finalized;
  forget(this);
  forget(other);
  this._h = other._h;
  other._h = null;
  if (wasFinalized) unscoped(this);
  (this as any)._shape = undefined;
  if (old !== null) native.dispose(old);
};
