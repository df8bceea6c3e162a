// Grad-mode scopes and functional gradients.
import { native } from './native';
import { Tensor } from './tensor';

/** Runs fn with gradient recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = native.gradEnabled();
  native.setGradEnabled(false);
  try { return fn(); } finally { native.setGradEnabled(prev); }
}

/** Runs fn with gradient recording on (torch.enable_grad), e.g. inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = native.gradEnabled();
  native.setGradEnabled(true);
  try { return fn(); } finally { native.setGradEnabled(prev); }
}

export function isGradEnabled(): boolean { return native.gradEnabled(); }
export function setGradEnabled(on: boolean): void { native.setGradEnabled(on); }

/** torch.autograd.grad: gradients of outputs w.r.t. inputs (null where unused and allowUnused). */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], opts: {
  gradOutputs?: Tensor[]; retainGraph?: boolean; createGraph?: boolean; allowUnused?: boolean;
} = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const res = native.autogradGrad(outs.map((t) => t.handle), ins.map((t) => t.handle),
    opts.gradOutputs ? opts.gradOutputs.map((t) => t.handle) : null, opts.retainGraph ?? null,
    opts.createGraph ?? false, opts.allowUnused ?? false) as unknown[];
  return res.map((x) => (x === null ? null : new Tensor(x as any)));
}
