// Optimizer base: parameter groups of NAMED parameters, per-parameter state keyed by name, in-place
// updates under noGrad inside tidy scopes, and name-matched state dicts (so a checkpoint still loads
// after a token, a head or a projector is added to the model).
import { Tensor, tidy, noGrad } from '../tensor';

/** A parameter and the name it is known by (its dotted path in the model, usually). */
export interface NamedParam { name: string; tensor: Tensor }

/** Hyperparameters every optimizer has. */
export interface BaseHyperparams { lr: number; weightDecay: number }

/** A live parameter group: hyperparameters (mutable: schedules set `lr`), its parameters, an optional name and lr scale. */
export type ParamGroup<H extends BaseHyperparams = BaseHyperparams> = H & {
  params: NamedParam[];
  /** for reports and logs ('decay', 'no_decay', 'projector', …) */
  name?: string;
  /** schedules set lr = schedule(t) · lrScale (timm's lr_scale; layer-wise decay) */
  lrScale?: number;
};

/** Anything that names parameters: a Module (its namedParameters(), trainable ones only), NamedParam[], [name, tensor] pairs or a Map. */
export type NamedParamsSource =
  | { namedParameters(): Iterable<[string, Tensor]> }
  | Iterable<NamedParam>
  | Iterable<[string, Tensor]>;

/** A group as given to a constructor: parameters plus any hyperparameters that differ from the optimizer's defaults. */
export type ParamGroupSpec<H extends BaseHyperparams = BaseHyperparams> = Partial<H> & {
  params: NamedParamsSource;
  name?: string;
  lrScale?: number;
};

export type OptimizerParams<H extends BaseHyperparams = BaseHyperparams> = NamedParamsSource | ParamGroupSpec<H>[];

/** Per-parameter state: the number of updates this parameter has had and its named state tensors. */
export interface ParamState { step: number; slots: Map<string, Tensor> }

/** A group as saved: its hyperparameters, name, lr scale and its parameters' names. */
export type SavedGroup = { params: string[]; name?: string; lrScale?: number } & Record<string, unknown>;

export interface OptimizerStateDict {
  /** 'SGD', 'AdamW', 'Adam': loading another kind's state is an error */
  kind: string;
  groups: SavedGroup[];
  /** parameter name → slot name (torch's: momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq) → tensor */
  state: Map<string, Map<string, Tensor>>;
  /** parameter name → number of updates it has had (torch's state[p]['step']) */
  steps: Map<string, number>;
  /** number of optimizer.step() calls */
  stepCount: number;
}

export interface OptimizerLoadReport {
  /** parameters of this optimizer with no saved state: they start fresh (e.g. a newly added token or projector) */
  missing: string[];
  /** names in the saved state that this optimizer does not have */
  unexpected: string[];
  /** saved state tensors whose shape differs from the parameter's */
  mismatched: { name: string; slot: string; expected: number[]; got: number[] }[];
  /** saved slots this optimizer does not keep (e.g. max_exp_avg_sq when amsgrad is off): ignored */
  ignoredSlots: string[];
}

export class OptimizerStateError extends Error {
  constructor(readonly report: OptimizerLoadReport, kind: string) {
    const parts: string[] = [];
    if (report.unexpected.length) parts.push(`state for parameters this optimizer does not have: ${list(report.unexpected)}`);
    if (report.mismatched.length) {
      parts.push(`shape mismatches: ${report.mismatched.slice(0, 8).map((m) => `${m.name}.${m.slot} (parameter [${m.expected}], saved [${m.got}])`).join(', ')}` +
        (report.mismatched.length > 8 ? ` and ${report.mismatched.length - 8} more` : ''));
    }
    super(`cannot load ${kind} optimizer state: ${parts.join('; ')} (pass { strict: false } to skip these and load the rest)`);
    this.name = 'OptimizerStateError';
  }
}
const list = (xs: string[]) => (xs.length > 12 ? `${xs.slice(0, 12).join(', ')} and ${xs.length - 12} more` : xs.join(', '));

function isNamedParam(x: unknown): x is NamedParam {
  return typeof x === 'object' && x !== null && typeof (x as NamedParam).name === 'string' && (x as NamedParam).tensor instanceof Tensor;
}

/** Normalises any NamedParamsSource to NamedParam[] (a Module contributes only parameters with requiresGrad). */
export function toNamedParams(src: NamedParamsSource): NamedParam[] {
  if (typeof (src as any).namedParameters === 'function') {
    const out: NamedParam[] = [];
    for (const [name, tensor] of (src as { namedParameters(): Iterable<[string, Tensor]> }).namedParameters()) {
      if (tensor.requiresGrad) out.push({ name, tensor });
    }
    return out;
  }
  const out: NamedParam[] = [];
  for (const x of src as Iterable<unknown>) {
    if (isNamedParam(x)) out.push({ name: x.name, tensor: x.tensor });
    else if (Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && x[1] instanceof Tensor) out.push({ name: x[0], tensor: x[1] });
    else throw new TypeError(`expected parameters as { name, tensor } objects or [name, tensor] pairs, got ${describe(x)}`);
  }
  return out;
}

function describe(x: unknown): string {
  if (x instanceof Tensor) return 'a bare Tensor (optimizers need parameter names: pass { name, tensor } or a Module)';
  if (x === null) return 'null';
  return typeof x === 'object' ? `an object with keys ${Object.keys(x as object).join(', ') || '(none)'}` : typeof x;
}

function isGroupSpecList(x: unknown): x is ParamGroupSpec<any>[] {
  return Array.isArray(x) && x.length > 0 && typeof x[0] === 'object' && x[0] !== null && !Array.isArray(x[0]) && 'params' in x[0];
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Base class of civet's optimizers. Subclasses give the default hyperparameters, validate a group and
 * update one parameter (`update`), mirroring torch.optim's single-tensor code path.
 *
 * State is keyed by parameter NAME: `stateDict()` / `loadStateDict()` match by name, never by position,
 * so the parameter order, the grouping and the set of parameters may change between save and load.
 */
export abstract class Optimizer<H extends BaseHyperparams = BaseHyperparams> {
  readonly paramGroups: ParamGroup<H>[] = [];
  protected readonly state = new Map<string, ParamState>();
  private readonly byName = new Map<string, NamedParam>();
  private _stepCount = 0;

  protected constructor(readonly kind: string, params: OptimizerParams<H>, readonly defaults: H) {
    this.validate(defaults, 'defaults');
    const specs: ParamGroupSpec<H>[] = isGroupSpecList(params) ? params : [{ params } as ParamGroupSpec<H>];
    for (const s of specs) this.addParamGroup(s);
    if (this.byName.size === 0) throw new Error(`${kind}: no parameters to optimize (empty list, or a Module whose parameters all have requiresGrad off)`);
  }

  /** Checks a group's hyperparameters (throws RangeError naming the bad value). */
  protected abstract validate(h: H, where: string): void;
  /** Updates one parameter in place. Runs under noGrad inside a tidy scope; make state tensors with `slot()`. */
  protected abstract update(p: NamedParam, grad: Tensor, group: ParamGroup<H>, st: ParamState): void;
  /** The state slots this optimizer keeps for a parameter in `group` (for loadStateDict's checks). */
  protected abstract slotNames(group: ParamGroup<H>): string[];
  /**
   * Updates a whole group with multi-tensor kernels (tensor/foreach.ts), as torch.optim's foreach
   * path: the same arithmetic as `update`, in the same order, one native call per list instead of
   * one per parameter. Runs under noGrad inside one tidy scope. Returns false (having changed
   * nothing) when the group needs the single-tensor path (an option it does not cover).
   */
  protected updateGroup?(items: { p: NamedParam; grad: Tensor; st: ParamState }[], group: ParamGroup<H>): boolean;
  /** Use updateGroup where the optimizer has one (default on; off: the per-parameter path). */
  foreach = true;

  /** Adds a group (torch's add_param_group), e.g. a projector's parameters when distillation starts. */
  addParamGroup(spec: ParamGroupSpec<H>): ParamGroup<H> {
    const { params, name, lrScale, ...rest } = spec as ParamGroupSpec<H> & Record<string, unknown>;
    for (const k of Object.keys(rest)) {
      if (!(k in this.defaults)) throw new TypeError(`${this.kind}: unknown hyperparameter '${k}' in param group${name ? ` '${name}'` : ''} (known: ${Object.keys(this.defaults).join(', ')})`);
    }
    const hyper = { ...this.defaults } as H;
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) (hyper as any)[k] = v;
    this.validate(hyper, name ? `param group '${name}'` : `param group ${this.paramGroups.length}`);
    const named = toNamedParams(params);
    const seen = new Set<Tensor>([...this.byName.values()].map((p) => p.tensor));
    for (const p of named) {
      if (this.byName.has(p.name)) throw new Error(`${this.kind}: parameter '${p.name}' appears in more than one param group (or twice in one)`);
      if (seen.has(p.tensor)) throw new Error(`${this.kind}: the tensor of parameter '${p.name}' is already in the optimizer under another name`);
      if (!p.tensor.dtype.startsWith('float') && p.tensor.dtype !== 'bfloat16') throw new TypeError(`${this.kind}: parameter '${p.name}' has dtype ${p.tensor.dtype}; only floating-point tensors can be optimized`);
      this.byName.set(p.name, p);
      seen.add(p.tensor);
    }
    const group = { ...hyper, params: named } as ParamGroup<H>;
    if (name !== undefined) group.name = name;
    if (lrScale !== undefined) group.lrScale = lrScale;
    this.paramGroups.push(group);
    return group;
  }

  /** Number of step() calls so far (restored by loadStateDict). */
  get stepCount(): number { return this._stepCount; }

  /** All parameters, in group order. */
  namedParams(): NamedParam[] { return this.paramGroups.flatMap((g) => g.params); }
  /** The parameter of that name, or undefined. */
  param(name: string): NamedParam | undefined { return this.byName.get(name); }

  /** One update of every parameter that has a gradient (parameters without one are skipped, as torch). */
  step(): void {
    for (const group of this.paramGroups) {
      this.validate(group, group.name ? `param group '${group.name}'` : `param group ${this.paramGroups.indexOf(group)}`);
      if (this.foreach && this.updateGroup) {
        const done = tidy(() => noGrad(() => {
          const items = group.params.flatMap((p) => {
            const grad = p.tensor.grad;
            if (grad === null) return [];
            let st = this.state.get(p.name);
            if (!st) st = { step: 0, slots: new Map() };
            return [{ p, grad, st }];
          });
          if (!items.length) return true;
          if (!this.updateGroup!(items, group)) return false;
          for (const it of items) if (!this.state.has(it.p.name)) this.state.set(it.p.name, it.st);
          return true;
        }));
        if (done) continue;
      }
      for (const p of group.params) {
        tidy(() => noGrad(() => {
          const grad = p.tensor.grad;
          if (grad === null) return;
          let st = this.state.get(p.name);
          if (!st) { st = { step: 0, slots: new Map() }; this.state.set(p.name, st); }
          this.update(p, grad, group, st);
        }));
      }
    }
    this._stepCount++;
  }

  /** Sets every parameter's gradient to null (torch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.tensor.grad = null;
  }

  /** The state tensor `name` of a parameter, created by `init` (kept across scopes) the first time. */
  protected slot(st: ParamState, name: string, init: () => Tensor): Tensor {
    let t = st.slots.get(name);
    if (!t) {
      t = init().keep();
      st.slots.set(name, t);
    }
    return t;
  }

  /** The state of one parameter (live tensors), or undefined before its first update. */
  stateOf(name: string): ParamState | undefined { return this.state.get(name); }

  /**
   * Hyperparameters, parameter names, per-parameter state and step counters. The state tensors are the
   * live ones (as torch's state_dict) unless `clone` is set: serialise them, or clone, before stepping again.
   */
  stateDict(opts: { clone?: boolean } = {}): OptimizerStateDict {
    const groups: SavedGroup[] = this.paramGroups.map((g) => {
      const { params, ...rest } = g;
      return { ...JSON.parse(JSON.stringify(rest)), params: params.map((p) => p.name) };
    });
    const state = new Map<string, Map<string, Tensor>>();
    const steps = new Map<string, number>();
    for (const p of this.namedParams()) {
      const st = this.state.get(p.name);
      if (!st) continue;
      steps.set(p.name, st.step);
      state.set(p.name, new Map([...st.slots].map(([k, t]) => [k, opts.clone ? noGrad(() => t.clone()) : t])));
    }
    return { kind: this.kind, groups, state, steps, stepCount: this._stepCount };
  }

  /**
   * Loads state saved by stateDict(), matching parameters BY NAME. Existing state is replaced; parameters
   * with no saved state start fresh (reported as `missing`). Unknown names and shape mismatches are errors
   * (OptimizerStateError lists them all) unless `strict: false`, which skips them. Group hyperparameters
   * (lr, weight decay, betas, …) are restored for each group from the saved group that held its first
   * matching parameter, unless `restoreHyperparams: false`. Values are copied: the optimizer never aliases `sd`.
   */
  loadStateDict(sd: OptimizerStateDict, opts: { strict?: boolean; restoreHyperparams?: boolean } = {}): OptimizerLoadReport {
    if (sd.kind !== this.kind) throw new Error(`cannot load ${sd.kind} optimizer state into ${this.kind} (different optimizer)`);
    const strict = opts.strict ?? true;
    const report: OptimizerLoadReport = { missing: [], unexpected: [], mismatched: [], ignoredSlots: [] };
    const savedNames = new Set<string>([...sd.state.keys(), ...sd.steps.keys()]);
    for (const n of savedNames) if (!this.byName.has(n)) report.unexpected.push(n);
    const groupOf = new Map<string, ParamGroup<H>>();
    for (const g of this.paramGroups) for (const p of g.params) groupOf.set(p.name, g);
    const plans: { p: NamedParam; step: number; slots: [string, Tensor][] }[] = [];
    for (const p of this.namedParams()) {
      if (!savedNames.has(p.name)) { report.missing.push(p.name); continue; }
      const keep = new Set(this.slotNames(groupOf.get(p.name)!));
      const slots: [string, Tensor][] = [];
      let bad = false;
      for (const [slot, t] of sd.state.get(p.name) ?? new Map<string, Tensor>()) {
        if (!keep.has(slot)) { report.ignoredSlots.push(`${p.name}.${slot}`); continue; }
        if (!sameShape(t.shape, p.tensor.shape)) { report.mismatched.push({ name: p.name, slot, expected: p.tensor.shape, got: t.shape }); bad = true; continue; }
        slots.push([slot, t]);
      }
      if (!bad) plans.push({ p, step: sd.steps.get(p.name) ?? 0, slots });
    }
    if (strict && (report.unexpected.length || report.mismatched.length)) throw new OptimizerStateError(report, this.kind);

    if (opts.restoreHyperparams ?? true) {
      const savedGroupOf = new Map<string, SavedGroup>();
      for (const g of sd.groups) for (const n of g.params) savedGroupOf.set(n, g);
      for (const g of this.paramGroups) {
        const from = g.params.map((p) => savedGroupOf.get(p.name)).find((x) => x !== undefined);
        if (!from) continue;
        const next = { ...g } as ParamGroup<H>;
        for (const k of Object.keys(this.defaults)) if (k in from) (next as any)[k] = structuredClone(from[k]);
        this.validate(next, `saved param group${from.name ? ` '${from.name}'` : ''}`);
        Object.assign(g, next);
      }
    }

    this.disposeState();
    noGrad(() => {
      for (const { p, step, slots } of plans) {
        const st: ParamState = { step, slots: new Map() };
        for (const [slot, t] of slots) st.slots.set(slot, t.to({ dtype: p.tensor.dtype, device: p.tensor.device, copy: true }).keep());
        this.state.set(p.name, st);
      }
    });
    this._stepCount = sd.stepCount;
    return report;
  }

  /** Frees the state tensors (the optimizer starts fresh on its next step). */
  disposeState(): void {
    for (const st of this.state.values()) for (const t of st.slots.values()) t.dispose();
    this.state.clear();
  }
  /** Frees the optimizer's state; the parameters belong to the model and are left alone. */
  dispose(): void { this.disposeState(); }
}

// ---- checkpoint helpers ------------------------------------------------------------------------

/** JSON-able part of an optimizer state dict (everything but the tensors). */
export interface OptimizerStateMeta {
  kind: string;
  groups: SavedGroup[];
  steps: Record<string, number>;
  stepCount: number;
}

/**
 * Splits a state dict into flat tensors keyed `<param name>.<slot>` (ready for safetensors) and JSON
 * metadata. Slot names contain no '.', so the key splits at its last '.'.
 */
export function flattenOptimizerState(sd: OptimizerStateDict): { tensors: Map<string, Tensor>; meta: OptimizerStateMeta } {
  const tensors = new Map<string, Tensor>();
  for (const [name, slots] of sd.state) for (const [slot, t] of slots) tensors.set(`${name}.${slot}`, t);
  return {
    tensors,
    meta: { kind: sd.kind, groups: sd.groups, steps: Object.fromEntries(sd.steps), stepCount: sd.stepCount },
  };
}

/** Inverse of flattenOptimizerState (the tensors are used as they are, not copied). */
export function unflattenOptimizerState(tensors: Map<string, Tensor> | Record<string, Tensor>, meta: OptimizerStateMeta): OptimizerStateDict {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const state = new Map<string, Map<string, Tensor>>();
  for (const [key, t] of entries) {
    const i = key.lastIndexOf('.');
    if (i <= 0) throw new Error(`optimizer state key '${key}' is not '<param name>.<slot>'`);
    const name = key.slice(0, i);
    if (!state.has(name)) state.set(name, new Map());
    state.get(name)!.set(key.slice(i + 1), t);
  }
  return { kind: meta.kind, groups: meta.groups, state, steps: new Map(Object.entries(meta.steps)), stepCount: meta.stepCount };
}

/** Shared checks for hyperparameters. */
export function checkNonNegative(kind: string, where: string, what: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${kind}: invalid ${what} ${String(v)} in ${where} (expected a finite number >= 0)`);
}
