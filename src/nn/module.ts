// Module: parameters, buffers and children registered by name, so state-dict keys are dotted
// paths exactly as in PyTorch/timm. Children are invoked with `call()` so forward hooks
// (feature taps for distillation) see every submodule's output.
import { Tensor, noGrad, tidy } from '../tensor';
import type { DType } from '../tensor';

export type ForwardHook = (module: Module, inputs: unknown[], output: any) => void;

export interface StageInfo {
  /** dotted module path whose output is the stage's feature map (tap it with tapFeatures) */
  name: string;
  /** channels (CNN) or embedding width (tokens) */
  channels: number;
  /** total downsampling factor from the input image */
  stride: number;
  /** 'map': [N, C, H, W]; 'tokens': [N, L, C] */
  layout: 'map' | 'tokens';
  /** dotted module path of the stage's pre-ReLU feature, where the model has one (OFD taps it) */
  preact?: string;
}

export interface LoadReport { missing: string[]; unexpected: string[]; mismatched: { key: string; expected: number[]; got: number[] }[] }

export class StateDictError extends Error {
  constructor(readonly report: LoadReport, source = 'state dict') {
    const parts: string[] = [];
    if (report.missing.length) parts.push(`missing keys: ${list(report.missing)}`);
    if (report.unexpected.length) parts.push(`unexpected keys: ${list(report.unexpected)}`);
    if (report.mismatched.length) parts.push(`shape mismatches: ${report.mismatched.slice(0, 8).map((m) => `${m.key} (model [${m.expected}], ${source} [${m.got}])`).join(', ')}${report.mismatched.length > 8 ? ` and ${report.mismatched.length - 8} more` : ''}`);
    super(`cannot load ${source}: ${parts.join('; ')}`);
    this.name = 'StateDictError';
  }
}
const list = (xs: string[]) => (xs.length > 12 ? `${xs.slice(0, 12).join(', ')} and ${xs.length - 12} more` : xs.join(', '));

export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, { t: Tensor | null; persistent: boolean }>();
  private readonly _modules = new Map<string, Module | null>();
  private _hooks: ForwardHook[] | null = null;

  abstract forward(...args: any[]): any;

  /** Runs forward and the forward hooks. Parents call children through this. */
  call(...args: any[]): any {
    const out = this.forward(...args);
    if (this._hooks) for (const h of this._hooks) h(this, args, out);
    return out;
  }

  registerForwardHook(hook: ForwardHook): () => void {
    (this._hooks ??= []).push(hook);
    return () => {
      this._hooks = this._hooks!.filter((h) => h !== hook);
      if (this._hooks.length === 0) this._hooks = null;
    };
  }

  // ---- registration --------------------------------------------------------------------------
  /** Registers a trainable parameter (requiresGrad on, kept across tidy scopes). */
  protected param(name: string, t: Tensor | null): Tensor {
    checkName(name, this);
    if (t) { t.requiresGrad = true; t.keep(); }
    this._params.set(name, t);
    return t as Tensor;
  }
  protected buffer(name: string, t: Tensor | null, persistent = true): Tensor {
    checkName(name, this);
    if (t) t.keep();
    this._buffers.set(name, { t, persistent });
    return t as Tensor;
  }
  protected module<M extends Module | null>(name: string, m: M): M {
    checkName(name, this);
    this._modules.set(name, m);
    return m;
  }
  /** Replaces a registered buffer's tensor (e.g. BatchNorm's step counter). */
  protected setBuffer(name: string, t: Tensor): void {
    const b = this._buffers.get(name);
    if (!b) throw new Error(`no buffer '${name}'`);
    b.t?.dispose();
    b.t = t.keep();
  }

  // ---- traversal -------------------------------------------------------------------------------
  *namedChildren(): Generator<[string, Module]> {
    for (const [n, m] of this._modules) if (m) yield [n, m];
  }
  children(): Module[] { return [...this.namedChildren()].map(([, m]) => m); }
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${n}` : n);
  }
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, p] of this._params) if (p) yield [prefix ? `${prefix}.${n}` : n, p];
    for (const [n, m] of this.namedChildren()) yield* m.namedParameters(prefix ? `${prefix}.${n}` : n);
  }
  parameters(): Tensor[] { return [...this.namedParameters()].map(([, p]) => p); }
  *namedBuffers(prefix = '', persistentOnly = false): Generator<[string, Tensor]> {
    for (const [n, b] of this._buffers) if (b.t && (!persistentOnly || b.persistent)) yield [prefix ? `${prefix}.${n}` : n, b.t];
    for (const [n, m] of this.namedChildren()) yield* m.namedBuffers(prefix ? `${prefix}.${n}` : n, persistentOnly);
  }
  getSubmodule(path: string): Module {
    if (path === '') return this;
    let m: Module = this;
    for (const part of path.split('.')) {
      const next = m._modules.get(part);
      if (!next) throw new Error(`no submodule '${path}' (stopped at '${part}'; children here: ${[...m._modules.keys()].join(', ') || 'none'})`);
      m = next;
    }
    return m;
  }
  apply(fn: (m: Module, name: string) => void): this {
    for (const [n, m] of this.namedModules()) fn(m, n);
    return this;
  }

  // ---- modes, devices, counting -------------------------------------------------------------
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this { return this.train(false); }
  /** Moves/casts parameters and buffers in place: references held elsewhere stay valid. */
  to(target: string | DType | { device?: string; dtype?: DType }): this {
    const t = typeof target === 'string' ? (target === 'cpu' || target.startsWith('cuda') ? { device: target } : { dtype: target as DType }) : target;
    // tidy() frees the intermediate conversions; _swap moves each result's handle into the
    // existing tensor object, so the tidy has nothing left to free of it
    tidy(() => noGrad(() => {
      for (const [, p] of this.namedParameters()) p._swap(p.to({ ...t }).detach().requiresGrad_(true));
      for (const [, b] of this.namedBuffers()) {
        const floating = b.dtype.startsWith('float') || b.dtype === 'bfloat16';
        b._swap(b.to({ device: t.device, dtype: floating ? t.dtype : undefined }));
      }
    }));
    return this;
  }
  numParameters(trainableOnly = false): number {
    let n = 0;
    for (const p of this.parameters()) if (!trainableOnly || p.requiresGrad) n += p.numel();
    return n;
  }
  zeroGrad(): void { for (const p of this.parameters()) p.grad = null; }
  requiresGrad_(on: boolean): this { for (const p of this.parameters()) p.requiresGrad = on; return this; }

  // ---- state dict ---------------------------------------------------------------------------
  /** Parameters and persistent buffers under their dotted names (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers('', true)]);
  }
  /** Copies values in. strict (default): any missing, unexpected or mis-shaped key is an error naming them all. */
  loadStateDict(sd: Map<string, Tensor> | Record<string, Tensor>, opts: { strict?: boolean; source?: string } = {}): LoadReport {
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    for (const k of own.keys()) if (!src.has(k)) report.missing.push(k);
    for (const k of src.keys()) if (!own.has(k)) report.unexpected.push(k);
    for (const [k, t] of own) {
      const s = src.get(k);
      if (s && (s.shape.length !== t.shape.length || s.shape.some((d, i) => d !== t.shape[i]))) report.mismatched.push({ key: k, expected: t.shape, got: s.shape });
    }
    const strict = opts.strict ?? true;
    if (strict && (report.missing.length || report.unexpected.length || report.mismatched.length)) throw new StateDictError(report, opts.source);
    const bad = new Set(report.mismatched.map((m) => m.key));
    noGrad(() => {
      for (const [k, t] of own) {
        const s = src.get(k);
        if (!s || bad.has(k)) continue;
        if (s.dtype === t.dtype && s.device === t.device) t.copy_(s);
        else { const c = s.to({ dtype: t.dtype, device: t.device }); t.copy_(c); c.dispose(); }
      }
    });
    return report;
  }

  /** Frees every parameter and buffer (the module is unusable afterwards). */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const [, b] of this.namedBuffers()) b.dispose();
  }
}

function checkName(name: string, m: Module): void {
  if (!name || name.includes('.')) throw new Error(`invalid name '${name}' in ${m.constructor.name}: names are non-empty and have no '.'`);
}

/** Where a tapped tensor comes from: a submodule's output, or its first input (e.g. the
 *  classifier's pooled input). A plain string taps the output of that dotted path. */
export interface TapSpec { path: string; io: 'out' | 'in' }

/** Runs fn while recording the given submodule outputs / inputs. `feats` follows the order of
 *  `taps`; `features` keys them by path (inputs as `path:in`). A tap that sees no forward call is
 *  an error. When a module runs twice, its last call is kept. */
export function tapFeatures<T>(model: Module, taps: (string | TapSpec)[], fn: () => T): { result: T; feats: Tensor[]; features: Map<string, Tensor> } {
  const specs = taps.map((t): TapSpec => (typeof t === 'string' ? { path: t, io: 'out' } : t));
  const got = new Map<number, Tensor>();
  const removers = specs.map((s, i) => model.getSubmodule(s.path).registerForwardHook((_m, inputs, out) => {
    got.set(i, s.io === 'out' ? out : (inputs[0] as Tensor));
  }));
  try {
    const result = fn();
    const features = new Map<string, Tensor>();
    const feats = specs.map((s, i) => {
      const t = got.get(i);
      if (!t) throw new Error(`feature tap '${s.path}' (${s.io}) saw no forward call`);
      features.set(s.io === 'out' ? s.path : `${s.path}:in`, t);
      return t;
    });
    return { result, feats, features };
  } finally {
    for (const r of removers) r();
  }
}
