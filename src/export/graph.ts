// An ONNX graph under construction: values with their static shapes (dimension 0 is the dynamic
// batch, written -1), nodes in topological order, float32/int64 initializers. Each op helper
// computes its output shape, so exporters can reason about shapes the way forward() does.
// Opset 17 (LayerNormalization's first opset; ReduceMean still takes `axes` as an attribute).
import { AT, DT, encodeModel } from './proto';

export const OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (onnx/helper.py's VERSION_TABLE, onnx 1.12). */
export const IR_VERSION = 8;

export interface Value { readonly name: string; readonly shape: readonly number[] }

/** A float attribute (plain numbers are written as INT attributes). */
export class FloatAttr { constructor(readonly v: number) {} }
export const float = (v: number) => new FloatAttr(v);
type AttrValue = number | number[] | string | FloatAttr;

interface Node { op: string; inputs: string[]; outputs: string[]; attrs: Record<string, AttrValue>; name: string }
interface Init { name: string; dims: number[]; data: Float32Array | BigInt64Array }

export class ExportError extends Error {
  constructor(msg: string) { super(msg); this.name = 'ExportError'; }
}

const BATCH = -1;
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** numpy broadcasting of two static shapes (the batch dimension broadcasts against 1 only). */
function broadcast(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new ExportError(`${op}: shapes [${a}] and [${b}] do not broadcast`);
  }
  return out;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inits = new Map<string, Init>();
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  private readonly used = new Set<string>();
  private counter = 0;
  /** the current module path, used to name nodes and values */
  scope = '';

  fresh(base: string): string {
    let name = base;
    while (this.used.has(name)) name = `${base}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, shape: number[]): Value {
    const v = { name: this.fresh(name), shape };
    this.inputs.push(v);
    return v;
  }
  output(v: Value, name: string): Value {
    // the graph output gets its public name through an Identity, so value names stay unique
    const out = { name: this.fresh(name), shape: v.shape };
    this.nodes.push({ op: 'Identity', inputs: [v.name], outputs: [out.name], attrs: {}, name: `output_${name}` });
    this.outputs.push(out);
    return out;
  }

  /** A float32 initializer (a weight or a constant). */
  init(name: string, data: Float32Array, dims: number[]): Value {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new ExportError(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    const v = { name: this.fresh(name), shape: dims };
    this.inits.set(v.name, { name: v.name, dims, data });
    return v;
  }
  initI64(name: string, data: number[], dims: number[] = [data.length]): Value {
    const v = { name: this.fresh(name), shape: dims };
    this.inits.set(v.name, { name: v.name, dims, data: BigInt64Array.from(data.map(BigInt)) });
    return v;
  }
  scalar(x: number): Value { return this.init(`const_${String(x).replace(/[^0-9a-z]/gi, '_')}`, Float32Array.of(x), []); }

  op(op: string, inputs: (Value | string)[], shape: readonly number[], attrs: Record<string, AttrValue> = {}, hint = op.toLowerCase()): Value {
    const base = this.scope ? `${this.scope}.${hint}` : hint;
    const out = { name: this.fresh(base), shape: [...shape] };
    this.nodes.push({ op, inputs: inputs.map((v) => (typeof v === 'string' ? v : v.name)), outputs: [out.name], attrs, name: out.name });
    return out;
  }

  // ---- ops with shape rules -------------------------------------------------------------------
  unary(op: string, x: Value): Value { return this.op(op, [x], x.shape); }
  binary(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: Value, b: Value): Value { return this.op(op, [a, b], broadcast(a.shape, b.shape, op)); }
  add(a: Value, b: Value): Value { return this.binary('Add', a, b); }
  mul(a: Value, b: Value): Value { return this.binary('Mul', a, b); }
  div(a: Value, b: Value): Value { return this.binary('Div', a, b); }

  conv(x: Value, w: Value, b: Value | null, o: { strides: number[]; pads: number[]; dilations: number[]; group: number }): Value {
    const [, , H, W] = x.shape;
    const [cout, , kh, kw] = w.shape;
    const size = (n: number, k: number, s: number, p0: number, p1: number, d: number) => Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1;
    const shape = [x.shape[0], cout, size(H, kh, o.strides[0], o.pads[0], o.pads[2], o.dilations[0]), size(W, kw, o.strides[1], o.pads[1], o.pads[3], o.dilations[1])];
    return this.op('Conv', b ? [x, w, b] : [x, w], shape, { kernel_shape: [kh, kw], strides: o.strides, pads: o.pads, dilations: o.dilations, group: o.group });
  }

  pool(op: 'MaxPool' | 'AveragePool', x: Value, k: number, s: number, p: number, o: { ceil?: boolean; countIncludePad?: boolean } = {}): Value {
    const size = (n: number) => (o.ceil ? Math.ceil : Math.floor)((n + 2 * p - k) / s) + 1;
    const attrs: Record<string, AttrValue> = { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p] };
    if (o.ceil) attrs.ceil_mode = 1;
    if (op === 'AveragePool') attrs.count_include_pad = o.countIncludePad === false ? 0 : 1;
    return this.op(op, [x], [x.shape[0], x.shape[1], size(x.shape[2]), size(x.shape[3])], attrs);
  }

  matmul(a: Value, b: Value): Value {
    if (a.shape[a.shape.length - 1] !== b.shape[b.shape.length - 2]) throw new ExportError(`MatMul: [${a.shape}] × [${b.shape}]`);
    const batch = broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
    return this.op('MatMul', [a, b], [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]]);
  }

  /** Reshape with ONNX semantics (0 copies the input dimension, one -1 is inferred). */
  reshape(x: Value, target: number[]): Value {
    const out = target.map((d, i) => (d === 0 ? x.shape[i] : d));
    const prod = (ds: number[]) => ds.filter((d) => d !== BATCH).reduce((a, b) => a * b, 1);
    const staticIn = prod([...x.shape]);
    const infer = target.flatMap((d, i) => (d === -1 ? [i] : []));
    if (infer.length > 1) throw new ExportError(`Reshape: more than one -1 in [${target}]`);
    if (infer.length === 1) {
      const i = infer[0];
      const others = out.filter((_, j) => j !== i);
      // the batch copied through a 0 elsewhere: the -1 is static; otherwise a -1 over a batched input is the batch
      if (others.includes(BATCH) || !x.shape.includes(BATCH)) out[i] = staticIn / prod(others);
      else if (prod(others) !== staticIn) throw new ExportError(`Reshape: [${x.shape}] to [${target}]`);
    } else if (prod(out) !== staticIn) throw new ExportError(`Reshape: [${x.shape}] to [${target}]`);
    return this.op('Reshape', [x, this.initI64('shape', target)], out);
  }
  transpose(x: Value, perm: number[]): Value { return this.op('Transpose', [x], perm.map((p) => x.shape[p]), { perm }); }
  concat(xs: Value[], axis: number): Value {
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((a, v) => a + v.shape[axis], 0);
    return this.op('Concat', xs, shape, { axis });
  }
  /** x.select(axis, index): Gather with a scalar index drops the axis. */
  gather(x: Value, axis: number, index: number): Value {
    return this.op('Gather', [x, this.initI64('index', [index], [])], x.shape.filter((_, i) => i !== axis), { axis });
  }
  slice(x: Value, axis: number, start: number, end: number, step = 1): Value {
    const n = x.shape[axis];
    const e = Math.min(end, n);
    const shape = [...x.shape];
    shape[axis] = Math.max(0, Math.ceil((e - start) / step));
    return this.op('Slice', [x, this.initI64('starts', [start]), this.initI64('ends', [end]), this.initI64('axes', [axis]), this.initI64('steps', [step])], shape);
  }
  reduceMean(x: Value, axes: number[], keepdims: boolean): Value {
    const shape = keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return this.op('ReduceMean', [x], shape, { axes, keepdims: keepdims ? 1 : 0 });
  }
  reduceSum(x: Value, axes: number[], keepdims: boolean): Value {
    const shape = keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return this.op('ReduceSum', [x, this.initI64('axes', axes)], shape, { keepdims: keepdims ? 1 : 0 });
  }
  unsqueeze(x: Value, axis: number): Value {
    const shape = [...x.shape];
    shape.splice(axis, 0, 1);
    return this.op('Unsqueeze', [x, this.initI64('axes', [axis])], shape);
  }
  softmax(x: Value, axis: number): Value { return this.op('Softmax', [x], x.shape, { axis }); }
  flatten(x: Value, axis: number): Value {
    return this.op('Flatten', [x], [x.shape[0], x.shape.slice(axis).reduce((a, b) => a * b, 1)], { axis });
  }
  pad(x: Value, pads: number[]): Value {
    const r = x.shape.length;
    const shape = x.shape.map((d, i) => (d === BATCH ? d : d + pads[i] + pads[i + r]));
    return this.op('Pad', [x, this.initI64('pads', pads)], shape, { mode: 'constant' });
  }

  /** t ([1, ...rest]) repeated along a new batch matching `like`'s batch: Expand(t, [N, ...rest]). */
  expandBatch(t: Value, like: Value): Value {
    const n = this.op('Shape', [like], [like.shape.length], { start: 0, end: 1 }, 'batch'); // Shape-15's start/end: [N]
    const shape = this.op('Concat', [n, this.initI64('dims', t.shape.slice(1))], [t.shape.length], { axis: 0 });
    return this.op('Expand', [t, shape], [like.shape[0], ...t.shape.slice(1)]);
  }

  // ---- passes ---------------------------------------------------------------------------------
  /** Folds each BatchNormalization whose input is a Conv used by nothing else into that Conv's
   *  weights and bias: W' = W·s, b' = (b − μ)·s + β with s = γ/√(σ² + ε), in float64. */
  foldBatchNorms(): number {
    const consumers = new Map<string, number>();
    for (const n of this.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
    for (const o of this.outputs) consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);
    const producer = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.outputs) producer.set(o, n);
    let folded = 0;
    const drop = new Set<Node>();
    for (const bn of this.nodes) {
      if (bn.op !== 'BatchNormalization') continue;
      const conv = producer.get(bn.inputs[0]);
      if (!conv || conv.op !== 'Conv' || consumers.get(conv.outputs[0]) !== 1 || consumers.get(conv.inputs[1]) !== 1) continue;
      const [gamma, beta, mean, vari] = bn.inputs.slice(1).map((n) => this.inits.get(n)!.data as Float32Array);
      const eps = (bn.attrs.epsilon as FloatAttr).v;
      const w = this.inits.get(conv.inputs[1])!;
      const cout = w.dims[0], per = w.data.length / cout;
      const oldB = conv.inputs[2] ? (this.inits.get(conv.inputs[2])!.data as Float32Array) : null;
      const W = new Float32Array(w.data.length), B = new Float32Array(cout);
      for (let o = 0; o < cout; o++) {
        const s = gamma[o] / Math.sqrt(vari[o] + eps);
        for (let j = 0; j < per; j++) W[o * per + j] = (w.data as Float32Array)[o * per + j] * s;
        B[o] = ((oldB ? oldB[o] : 0) - mean[o]) * s + beta[o];
      }
      w.data = W;
      const bias = this.init(`${conv.inputs[1].replace(/\.weight$/, '')}.bias_folded`, B, [cout]);
      conv.inputs[2] = bias.name;
      conv.outputs[0] = bn.outputs[0];
      drop.add(bn);
      folded++;
    }
    for (let i = this.nodes.length - 1; i >= 0; i--) if (drop.has(this.nodes[i])) this.nodes.splice(i, 1);
    // initializers nothing reads any more (BN statistics, replaced biases)
    const read = new Set(this.nodes.flatMap((n) => n.inputs));
    for (const k of [...this.inits.keys()]) if (!read.has(k)) this.inits.delete(k);
    return folded;
  }

  // ---- encoding -------------------------------------------------------------------------------
  toModelProto(o: { name: string; producerVersion: string; metadata: Record<string, string>; docString?: string }): Record<string, unknown> {
    const valueInfo = (v: Value, batchName: string) => ({
      name: v.name,
      type: { tensor_type: { elem_type: DT.FLOAT, shape: { dim: v.shape.map((d) => (d === BATCH ? { dim_param: batchName } : { dim_value: d })) } } },
    });
    const attr = (name: string, v: AttrValue) => {
      if (v instanceof FloatAttr) return { name, type: AT.FLOAT, f: v.v };
      if (typeof v === 'string') return { name, type: AT.STRING, s: Buffer.from(v, 'utf8') };
      if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
      return { name, type: AT.INT, i: v };
    };
    const tensor = (t: Init) => ({
      name: t.name,
      dims: t.dims,
      data_type: t.data instanceof Float32Array ? DT.FLOAT : DT.INT64,
      // raw_data is little-endian by the ONNX spec, as typed arrays are on every platform Node runs on
      raw_data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    });
    return {
      ir_version: IR_VERSION,
      opset_import: [{ domain: '', version: OPSET }],
      producer_name: 'civet',
      producer_version: o.producerVersion,
      doc_string: o.docString,
      graph: {
        name: o.name,
        node: this.nodes.map((n) => ({ input: n.inputs, output: n.outputs, name: n.name, op_type: n.op, attribute: Object.entries(n.attrs).map(([k, v]) => attr(k, v)) })),
        initializer: [...this.inits.values()].map(tensor),
        input: this.inputs.map((v) => valueInfo(v, 'batch')),
        output: this.outputs.map((v) => valueInfo(v, 'batch')),
      },
      metadata_props: Object.entries(o.metadata).map(([key, value]) => ({ key, value })),
    };
  }

  encode(o: Parameters<Graph['toModelProto']>[0]): Uint8Array { return encodeModel(this.toModelProto(o)); }
}

export { sameShape, BATCH };
