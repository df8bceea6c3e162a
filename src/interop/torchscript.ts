// A TorchScript module (made in Python with torch.jit.trace or torch.jit.script) used as a
// black-box function, e.g. a teacher for logit-only distillation. civet never runs Python.
import * as fs from 'node:fs';
import { native, type ScriptModuleHandle } from '../tensor/native';
import { Tensor } from '../tensor';

export class TorchScriptModule {
  private readonly handle: ScriptModuleHandle;
  constructor(readonly path: string, device = 'cpu') {
    if (!fs.existsSync(path)) throw new Error(`TorchScript file not found: ${path}`);
    this.handle = native.jitLoad(path, device);
  }
  /** Calls forward(...inputs); tensors, or arrays of them for tuple/list outputs. */
  forward(...inputs: Tensor[]): Tensor | Tensor[] | number | boolean | undefined {
    return wrapOut(native.jitForward(this.handle, inputs.map((t) => t.handle)));
  }
  /** forward() that must return one tensor (a classifier's logits). */
  logits(...inputs: Tensor[]): Tensor {
    const out = this.forward(...inputs);
    if (!(out instanceof Tensor)) throw new Error(`TorchScript module ${this.path} returned ${Array.isArray(out) ? 'a tuple' : typeof out}, expected one tensor of logits`);
    return out;
  }
  to(device: string): this { native.jitTo(this.handle, device); return this; }
}

function wrapOut(v: unknown): any {
  if (typeof v === 'bigint') return new Tensor(v as any);
  if (Array.isArray(v)) return v.map(wrapOut);
  return v;
}

export function loadTorchScript(path: string, device = 'cpu'): TorchScriptModule {
  return new TorchScriptModule(path, device);
}
