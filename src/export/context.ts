// The exporter's walk over a module tree: each module type has a rule that emits the ONNX nodes
// of its eval-mode forward, calling its children's rules through cx.call(). Rules are looked up
// by the module's exact class (a subclass may override forward, so it needs a rule of its own);
// a module without one stops the export with its path and class named.
import { Tensor, tidy, noGrad } from '../tensor';
import type { Module } from '../nn/module';
import { ExportError, Graph, Value } from './graph';

export type ModuleExporter<M extends Module = any> = (cx: ExportContext, m: M, x: Value) => Value;

const RULES = new Map<Function, ModuleExporter>();

/** Registers the ONNX rule of one module class (plugins can add their own models this way). */
export function registerExporter<M extends Module>(ctor: abstract new (...args: any[]) => M, rule: ModuleExporter<M>): void {
  RULES.set(ctor, rule);
}
export function hasExporter(m: Module): boolean { return RULES.has(m.constructor); }

export interface ExportOptions {
  /** inference read-out of multi-head students (DeiT 'mean' | 'cls' | 'dist' | 'cskd_mean3'; CivT 'mean' | 'cls' | 'conv' | 'inv');
   *  default: the model's own */
  readout?: string;
}

export class ExportContext {
  readonly g = new Graph();
  private readonly paths = new Map<Module, string>();
  private readonly weights = new Map<Tensor, Value>();

  constructor(root: Module, readonly options: ExportOptions = {}) {
    for (const [name, m] of root.namedModules()) this.paths.set(m, name);
  }

  path(m: Module): string {
    const p = this.paths.get(m);
    if (p === undefined) throw new ExportError(`a ${m.constructor.name} that is not registered as a submodule of the exported model was called`);
    return p;
  }

  call(m: Module, x: Value): Value {
    const p = this.path(m);
    const rule = RULES.get(m.constructor);
    if (!rule) {
      throw new ExportError(`cannot export module '${p || '(the model itself)'}' (${m.constructor.name}): civet's ONNX exporter has no rule for this module type (register one with registerExporter)`);
    }
    const outer = this.g.scope;
    this.g.scope = p;
    try { return rule(this, m, x); } finally { this.g.scope = outer; }
  }

  /** A parameter or buffer of the current module as a float32 initializer named by its state-dict key. */
  weight(t: Tensor, name: string, transform?: (data: Float32Array, dims: number[]) => { data: Float32Array; dims: number[] }): Value {
    const cached = transform ? undefined : this.weights.get(t);
    if (cached) return cached;
    let data = tidy(() => noGrad(() => t.detach().to({ dtype: 'float32', device: 'cpu' }).contiguous().toTypedArray() as Float32Array));
    let dims = [...t.shape];
    if (transform) ({ data, dims } = transform(data, dims));
    const key = this.g.scope ? `${this.g.scope}.${name}` : name;
    const v = this.g.init(key, data, dims);
    if (!transform) this.weights.set(t, v);
    return v;
  }

  /** A [out, in] weight stored transposed ([in, out]) for MatMul. */
  weightT(t: Tensor, name: string): Value {
    return this.weight(t, `${name}_t`, (d, [o, i]) => {
      const out = new Float32Array(d.length);
      for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[c * o + r] = d[r * i + c];
      return { data: out, dims: [i, o] };
    });
  }

  /** Constant float32 filled with `value`. */
  filled(name: string, value: number, dims: number[]): Value {
    return this.g.init(this.g.scope ? `${this.g.scope}.${name}` : name, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value), dims);
  }
}
