// torch.optim.SGD (1.13, single-tensor path), exactly:
//   d = grad (negated if maximize);  d = d + weightDecay·p            (if weightDecay ≠ 0)
//   buf = clone(d) at a parameter's first update, else buf = momentum·buf + (1 − dampening)·d
//   d = nesterov ? d + momentum·buf : buf                               (if momentum ≠ 0)
//   p = p − lr·d
import { Tensor, foreach } from '../tensor';
import { Optimizer, OptimizerParams, ParamGroup, NamedParam, ParamState, BaseHyperparams, checkNonNegative } from './optimizer';

export interface SGDHyperparams extends BaseHyperparams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export type SGDOptions = Partial<SGDHyperparams> & { lr: number; /** multi-tensor kernels (default true) */ foreach?: boolean };

export class SGD extends Optimizer<SGDHyperparams> {
  constructor(params: OptimizerParams<SGDHyperparams>, opts: SGDOptions) {
    super('SGD', params, {
      lr: opts.lr,
      momentum: opts.momentum ?? 0,
      dampening: opts.dampening ?? 0,
      weightDecay: opts.weightDecay ?? 0,
      nesterov: opts.nesterov ?? false,
      maximize: opts.maximize ?? false,
    });
    this.foreach = opts.foreach ?? true;
  }

  protected validate(h: SGDHyperparams, where: string): void {
    checkNonNegative('SGD', where, 'learning rate', h.lr);
    checkNonNegative('SGD', where, 'momentum', h.momentum);
    checkNonNegative('SGD', where, 'weight decay', h.weightDecay);
    if (typeof h.dampening !== 'number' || !Number.isFinite(h.dampening)) throw new RangeError(`SGD: invalid dampening ${h.dampening} in ${where}`);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) throw new RangeError(`SGD: Nesterov momentum requires a momentum and zero dampening (${where})`);
  }

  protected slotNames(g: ParamGroup<SGDHyperparams>): string[] { return g.momentum !== 0 ? ['momentum_buffer'] : []; }

  protected update(p: NamedParam, grad: Tensor, g: ParamGroup<SGDHyperparams>, st: ParamState): void {
    const param = p.tensor;
    let d = g.maximize ? grad.neg() : grad;
    if (g.weightDecay !== 0) d = d.add(param, g.weightDecay);
    if (g.momentum !== 0) {
      let buf = st.slots.get('momentum_buffer');
      if (!buf) {
        buf = this.slot(st, 'momentum_buffer', () => d.clone());
      } else {
        buf.mul_(g.momentum).add_(d, 1 - g.dampening);
      }
      d = g.nesterov ? d.add(buf, g.momentum) : buf;
    }
    st.step += 1;
    param.add_(d, -g.lr);
  }

  /** torch/optim/sgd.py `_multi_tensor_sgd`, written as `update` above: same ops, same order. */
  protected override updateGroup(items: { p: NamedParam; grad: Tensor; st: ParamState }[], g: ParamGroup<SGDHyperparams>): boolean {
    if (g.maximize) return false;
    const params = items.map((it) => it.p.tensor);
    let d = items.map((it) => it.grad);
    if (g.weightDecay !== 0) d = foreach.foreachAdd(d, params, g.weightDecay);
    if (g.momentum !== 0) {
      // buffers that exist are updated together; a parameter's first update clones d (as torch)
      const old = items.map((it, i) => [it.st.slots.get('momentum_buffer'), i] as const).filter(([b]) => b !== undefined);
      foreach.foreachMul_(old.map(([b]) => b!), g.momentum);
      foreach.foreachAdd_(old.map(([b]) => b!), old.map(([, i]) => d[i]), 1 - g.dampening);
      const bufs = items.map((it, i) => this.slot(it.st, 'momentum_buffer', () => d[i].clone()));
      d = g.nesterov ? foreach.foreachAdd(d, bufs, g.momentum) : bufs;
    }
    for (const it of items) it.st.step += 1;
    foreach.foreachAdd_(params, d, -g.lr);
    return true;
  }
}
