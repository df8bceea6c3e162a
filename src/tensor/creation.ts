// Tensor creation: factories under PyTorch's names. float32 is the default floating dtype.
import { native, Handle, type GeneratorHandle } from './native';
import { Tensor, Shape, Scalar } from './tensor';
import { DType, dtypeCode, dtypeOfTypedArray } from './dtype';

export interface CreateOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
  generator?: Generator;
}

/** A seedable random number generator (CPU), for reproducible sampling independent of the global seed. */
export class Generator {
  readonly handle: GeneratorHandle;
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Generator seed must be a non-negative integer, got ${seed}`);
    this.handle = native.newGenerator(seed);
  }
  getState(): Tensor { return new Tensor(native.getRngState(this.handle)); }
  setState(state: Tensor): void { native.setRngState(state.handle, this.handle); }
}

function done(hd: Handle, o: CreateOptions): Tensor {
  const t = new Tensor(hd);
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}
const code = (d: DType | undefined, dflt: DType) => dtypeCode(d ?? dflt);

export function zeros(shape: Shape, o: CreateOptions = {}): Tensor { return done(native.full(shape, 0, code(o.dtype, 'float32'), o.device), o); }
export function ones(shape: Shape, o: CreateOptions = {}): Tensor { return done(native.full(shape, 1, code(o.dtype, 'float32'), o.device), o); }
export function full(shape: Shape, value: Scalar, o: CreateOptions = {}): Tensor {
  return done(native.full(shape, value, code(o.dtype, typeof value === 'boolean' ? 'bool' : 'float32'), o.device), o);
}
export function empty(shape: Shape, o: CreateOptions = {}): Tensor { return done(native.empty(shape, code(o.dtype, 'float32'), o.device), o); }
export function zerosLike(t: Tensor, o: CreateOptions = {}): Tensor { return zeros(t.shape, { dtype: t.dtype, device: t.device, ...o }); }
export function onesLike(t: Tensor, o: CreateOptions = {}): Tensor { return ones(t.shape, { dtype: t.dtype, device: t.device, ...o }); }
export function fullLike(t: Tensor, value: Scalar, o: CreateOptions = {}): Tensor { return full(t.shape, value, { dtype: t.dtype, device: t.device, ...o }); }
export function emptyLike(t: Tensor, o: CreateOptions = {}): Tensor { return empty(t.shape, { dtype: t.dtype, device: t.device, ...o }); }

/** arange(end) or arange(start, end, step); int64 when all bounds are integers (as torch). */
export function arange(start: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  if (end === undefined) { end = start; start = 0; }
  if (step === 0) throw new RangeError('arange: step must be non-zero');
  const ints = [start, end, step].every(Number.isInteger);
  return done(native.arange(start, end, step, code(o.dtype, ints ? 'int64' : 'float32'), o.device), o);
}
export function linspace(start: number, end: number, steps: number, o: CreateOptions = {}): Tensor {
  return done(native.linspace(start, end, steps, code(o.dtype, 'float32'), o.device), o);
}
export function eye(n: number, m = n, o: CreateOptions = {}): Tensor { return done(native.eye(n, m, code(o.dtype, 'float32'), o.device), o); }
export function rand(shape: Shape, o: CreateOptions = {}): Tensor {
  return done(native.rand(shape, code(o.dtype, 'float32'), o.device, o.generator?.handle), o);
}
export function randn(shape: Shape, o: CreateOptions = {}): Tensor {
  return done(native.randn(shape, code(o.dtype, 'float32'), o.device, o.generator?.handle), o);
}
export function randLike(t: Tensor, o: CreateOptions = {}): Tensor { return rand(t.shape, { dtype: t.dtype, device: t.device, ...o }); }
export function randnLike(t: Tensor, o: CreateOptions = {}): Tensor { return randn(t.shape, { dtype: t.dtype, device: t.device, ...o }); }
/** Integers in [low, high). */
export function randint(low: number, high: number, shape: Shape, o: CreateOptions = {}): Tensor {
  return done(native.randint(low, high, shape, code(o.dtype, 'int64'), o.device, o.generator?.handle), o);
}
export function randperm(n: number, o: CreateOptions = {}): Tensor {
  return done(native.randperm(n, code(o.dtype, 'int64'), o.device, o.generator?.handle), o);
}

/** From a typed array (copied). Its natural dtype unless `dtype` is given (Uint16Array needs float16 or bfloat16). */
export function fromTypedArray(data: ArrayBufferView, shape?: Shape, o: CreateOptions = {}): Tensor {
  const dtype = o.dtype ?? dtypeOfTypedArray(data);
  const elems = data.byteLength / (data as any).BYTES_PER_ELEMENT;
  const s = shape ?? [elems];
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (o.dtype && o.dtype !== dtypeOfTypedArraySafe(data)) {
    // A plain-number array given with another dtype: build in its own dtype, then convert.
    const natural = dtypeOfTypedArraySafe(data);
    // (uint8 → bool converts too, so that bytes other than 0/1 become true rather than invalid bools)
    if (natural && !((data instanceof Uint16Array) && (o.dtype === 'float16' || o.dtype === 'bfloat16'))) {
      const t0 = new Tensor(native.fromBytes(bytes, s, dtypeCode(natural), o.device));
      const t1 = t0.to(o.dtype);
      t0.dispose();
      if (o.requiresGrad) t1.requiresGrad = true;
      return t1;
    }
  }
  return done(native.fromBytes(bytes, s, dtypeCode(dtype), o.device), o);
}
function dtypeOfTypedArraySafe(a: ArrayBufferView): DType | null {
  try { return dtypeOfTypedArray(a); } catch { return null; }
}

type Nested = number | boolean | Nested[];

/** From nested JS arrays or a number: float32 by default, bool for booleans. */
export function tensor(data: Nested | ArrayBufferView, o: CreateOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) return fromTypedArray(data, undefined, o);
  const shape: number[] = [];
  let probe: Nested = data;
  while (Array.isArray(probe)) { shape.push(probe.length); probe = probe[0]; }
  const flat: (number | boolean)[] = [];
  flattenChecked(data, shape, 0, flat);
  const isBool = typeof probe === 'boolean';
  const dtype = o.dtype ?? (isBool ? 'bool' : 'float32');
  let arr: ArrayBufferView;
  switch (dtype) {
    case 'float64': arr = Float64Array.from(flat as number[]); break;
    case 'int64': arr = BigInt64Array.from(flat as number[], (x) => BigInt(Math.trunc(Number(x)))); break;
    case 'int32': arr = Int32Array.from(flat as number[]); break;
    case 'int16': arr = Int16Array.from(flat as number[]); break;
    case 'int8': arr = Int8Array.from(flat as number[]); break;
    case 'uint8': arr = Uint8Array.from(flat, (x) => Number(x)); break;
    case 'bool': arr = Uint8Array.from(flat, (x) => (x ? 1 : 0)); break;
    default: arr = Float32Array.from(flat as number[], Number);
  }
  const natural = dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype;
  const t = new Tensor(native.fromBytes(new Uint8Array(arr.buffer), shape, dtypeCode(natural), o.device));
  if (natural === dtype) { if (o.requiresGrad) t.requiresGrad = true; return t; }
  const c = t.to(dtype);
  t.dispose();
  if (o.requiresGrad) c.requiresGrad = true;
  return c;
}

function flattenChecked(x: Nested, shape: number[], d: number, out: (number | boolean)[]): void {
  if (d === shape.length) {
    if (Array.isArray(x)) throw new TypeError(`tensor(): ragged nested array (too deep at dimension ${d})`);
    if (typeof x !== 'number' && typeof x !== 'boolean') throw new TypeError(`tensor(): expected numbers or booleans, got ${typeof x}`);
    out.push(x);
    return;
  }
  if (!Array.isArray(x) || x.length !== shape[d]) {
    throw new TypeError(`tensor(): ragged nested array: expected length ${shape[d]} at dimension ${d}, got ${Array.isArray(x) ? x.length : typeof x}`);
  }
  for (const e of x) flattenChecked(e, shape, d + 1, out);
}

export function scalarTensor(v: number, o: CreateOptions = {}): Tensor { return full([], v, o); }

/** From raw little-endian bytes in C order, interpreted as `dtype` (copied). */
export function fromBytes(bytes: Uint8Array, shape: Shape, dtype: DType, o: { device?: string } = {}): Tensor {
  return new Tensor(native.fromBytes(bytes, shape, dtypeCode(dtype), o.device));
}
