// `civet conformance FILE...`: evaluates golden cases through civet's public API and compares
// outputs, in-place state and gradients of sum(output · grad_output) with PyTorch's numbers.
import * as path from 'node:path';
import { tidy, Tensor, scalarTensor } from '../tensor';
import { readGoldenFile, toTensor, compare, GoldenCase, GoldenTensor, Tol, Mismatch } from './golden';
import { LOSS_CASES, MODEL_CASES } from './registry';
// the evaluators live in cases/ and load here only, so a training run never imports them
import { functionalNames, callFunctional, TENSOR_METHOD_CASES, isCivetModel, evaluateCivetModel } from './cases';

type Evaluator = (inputs: Record<string, any>, options: Record<string, any>) => Tensor;

/** The evaluator for an op (any public F function, or a tensor method) or a registered loss. */
function evaluatorOf(c: GoldenCase): Evaluator | null {
  if (c.kind === 'loss') return LOSS_CASES.get(c.name) ?? null;
  if (FUNCTIONAL.has(c.name)) return (x, o) => callFunctional(c.name, x, o);
  return TENSOR_METHOD_CASES[c.name] ?? null;
}
const FUNCTIONAL = new Set(functionalNames());

export type Outcome = { status: 'passed' } | { status: 'skipped'; reason: string } | { status: 'failed'; problems: Mismatch[] };

export interface CaseResult { file: string; index: number; kind: string; name: string; outcome: Outcome }

export interface ConformanceSummary { passed: number; failed: number; skipped: number; results: CaseResult[] }

export function evaluateCase(c: GoldenCase, defaultTol: Tol, goldenDir: string): Outcome {
  const tol = c.tol ?? defaultTol;
  return tidy(() => {
    if (c.kind === 'op' || c.kind === 'loss') {
      const fn = evaluatorOf(c);
      if (!fn) {
        const reason = c.kind === 'op'
          ? `'${c.name}' is neither a function of F nor a tensor method civet evaluates`
          : `no loss '${c.name}' is registered with the conformance runner (src/conformance/cases/)`;
        return { status: 'skipped', reason } as Outcome;
      }
      // an input is a tensor or a list of tensors (multi-layer or multi-student losses)
      const inputs: Record<string, any> = {};
      const wantGrad = (c.expected.grad ?? {}) as Record<string, GoldenTensor | GoldenTensor[]>;
      for (const [k, g] of Object.entries(c.inputs ?? {}) as [string, GoldenTensor | GoldenTensor[]][]) {
        const ts = (Array.isArray(g) ? g : [g]).map((x, i) => toTensor(x, Array.isArray(g) ? `${k}[${i}]` : k));
        if (k in wantGrad) ts.forEach((t) => { t.requiresGrad = true; });
        inputs[k] = Array.isArray(g) ? ts : ts[0];
      }
      const out = fn(inputs, c.options ?? {});
      const problems: Mismatch[] = [];
      const want = c.kind === 'op' ? c.expected.output : c.expected.loss;
      if (want) push(problems, compare(c.kind === 'op' ? 'output' : 'loss', out, want, tol));
      for (const [k, g] of Object.entries(c.expected.state ?? {})) push(problems, compare(`state.${k}`, inputs[k], g, tol));
      if (Object.keys(wantGrad).length) {
        const go = c.grad_output === undefined || typeof c.grad_output === 'number'
          ? scalarTensor(typeof c.grad_output === 'number' ? c.grad_output : 1) : toTensor(c.grad_output, 'grad_output');
        out.mul(go).sum().backward();
        for (const [k, g] of Object.entries(wantGrad)) {
          if (Array.isArray(g)) g.forEach((gi, i) => push(problems, compare(`grad.${k}[${i}]`, inputs[k]?.[i]?.grad, gi, tol)));
          else push(problems, compare(`grad.${k}`, inputs[k]?.grad, g, tol));
        }
      }
      return (problems.length ? { status: 'failed', problems } : { status: 'passed' }) as Outcome;
    }
    if (c.kind === 'model') {
      const fn = MODEL_CASES.get(c.name) ?? (isCivetModel(c.name) ? evaluateCivetModel : undefined);
      if (!fn) return { status: 'skipped', reason: `'${c.name}' is neither a registered model nor a torchvision model case civet knows` } as Outcome;
      if (!c.input || !c.expected.logits) return { status: 'failed', problems: [{ what: 'case', detail: 'model case without input or expected logits' }] } as Outcome;
      const logits = fn(c, path.resolve(goldenDir, c.weights ?? ''), toTensor(c.input, 'input'));
      const p = compare('logits', logits, c.expected.logits, tol);
      return (p ? { status: 'failed', problems: [p] } : { status: 'passed' }) as Outcome;
    }
    return { status: 'skipped', reason: `unknown case kind '${c.kind}'` } as Outcome;
  });
}

function push(list: Mismatch[], m: Mismatch | null): void { if (m) list.push(m); }

export function runConformance(files: string[], log: (line: string) => void = () => {}): ConformanceSummary {
  const results: CaseResult[] = [];
  for (const file of files) {
    const golden = readGoldenFile(file);
    golden.cases.forEach((c, index) => {
      let outcome: Outcome;
      try {
        outcome = evaluateCase(c, golden.default_tol, path.dirname(path.resolve(file)));
      } catch (e: any) {
        outcome = { status: 'failed', problems: [{ what: 'error', detail: e?.message ?? String(e) }] };
      }
      results.push({ file, index, kind: c.kind, name: c.name, outcome });
      if (outcome.status === 'failed') {
        log(`FAIL ${path.basename(file)}#${index} ${c.kind} ${c.name}: ${outcome.problems.map((p) => `${p.what}: ${p.detail}`).join('; ')}`);
      } else if (outcome.status === 'skipped') {
        log(`SKIP ${path.basename(file)}#${index} ${c.kind} ${c.name}: ${outcome.reason}`);
      }
    });
  }
  const count = (kind: string | null, s: Outcome['status']) => results.filter((r) => (kind === null || r.kind === kind) && r.outcome.status === s).length;
  for (const kind of [...new Set(results.map((r) => r.kind))]) {
    log(`${kind}: ${count(kind, 'passed')} passed, ${count(kind, 'failed')} failed, ${count(kind, 'skipped')} skipped`);
  }
  const summary = { passed: count(null, 'passed'), failed: count(null, 'failed'), skipped: count(null, 'skipped'), results };
  log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  return summary;
}
