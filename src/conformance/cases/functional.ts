// Every public function of F (src/tensor/functional.ts) as a golden `op` case, by name: the case's
// inputs and options are matched to the function's own parameters, read from its source. civet's F
// keeps torch.nn.functional's names and argument names, with keyword arguments gathered in a
// trailing options object `o`; so a PyTorch call F.conv2d(input, weight, bias, stride=2) becomes
// F.conv2d(input, weight, bias, { stride: 2 }) without a hand-written adapter per function.
import { Tensor, F } from '../../tensor';

/** One parameter of an F function: its name and whether it is the trailing options object. */
export interface Param { name: string; options: boolean }

// civet names a few parameters differently from torch.nn.functional; a golden case may use either.
const TORCH_NAMES: Record<string, string[]> = {
  x: ['input'], t: ['tensor', 'input'], q: ['query'], k: ['key'], v: ['value'], padding: ['pad'],
};

/** The names of F's public functions, sorted. */
export function functionalNames(): string[] {
  return Object.keys(F).filter((k) => typeof (F as Record<string, unknown>)[k] === 'function').sort();
}

/** Splits a parameter list at top-level commas (defaults may hold brackets, braces or strings). */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0, quote = '', cur = '';
  for (const ch of s) {
    if (quote) { if (ch === quote) quote = ''; cur += ch; continue; }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** The parameters of F[name] from its compiled source: `function f(a, b = 1, o = {})` or `(a, b) => …`. */
export function functionalParams(name: string): Param[] {
  const fn = (F as Record<string, unknown>)[name];
  if (typeof fn !== 'function') throw new Error(`F.${name} is not a function`);
  const src = Function.prototype.toString.call(fn);
  const open = src.indexOf('(');
  let depth = 0, close = -1;
  for (let i = open; i < src.length; i++) {
    if (src[i] === '(') depth++;
    else if (src[i] === ')' && --depth === 0) { close = i; break; }
  }
  if (open < 0 || close < 0) throw new Error(`F.${name}: cannot read its parameter list`);
  return splitTopLevel(src.slice(open + 1, close)).map((p) => {
    const [n, dflt] = p.split(/\s*=\s*(.*)/s);
    if (!/^[A-Za-z_$][\w$]*$/.test(n)) throw new Error(`F.${name}: parameter '${p}' is not a plain name`);
    return { name: n, options: n === 'o' || (dflt !== undefined && dflt.trim().startsWith('{')) };
  });
}

/** Calls F[name] with a golden case's inputs (tensors) and options (keyword arguments). */
export function callFunctional(name: string, inputs: Record<string, unknown>, options: Record<string, unknown>): Tensor {
  const params = functionalParams(name);
  const given: Record<string, unknown> = { ...options, ...inputs };
  const used = new Set<string>();
  const take = (p: string): unknown => {
    for (const key of [p, ...(TORCH_NAMES[p] ?? [])]) {
      if (key in given && !used.has(key)) { used.add(key); return given[key]; }
    }
    return undefined;
  };
  const args: unknown[] = [];
  let rest: Record<string, unknown> | null = null;
  for (const p of params) {
    if (p.options) { rest = {}; args.push(rest); } else args.push(take(p.name));
  }
  // whatever no positional parameter took is a keyword argument of the options object
  const left = Object.keys(given).filter((k) => !used.has(k));
  if (left.length && !rest) {
    throw new Error(`F.${name}(${params.map((p) => p.name).join(', ')}) has no parameter for ${left.map((k) => `'${k}'`).join(', ')}`);
  }
  for (const k of left) rest![k] = given[k];
  // trailing undefined arguments fall back to the defaults
  while (args.length && args[args.length - 1] === undefined) args.pop();
  const out = ((F as Record<string, unknown>)[name] as (...a: unknown[]) => unknown)(...args);
  if (!(out instanceof Tensor)) throw new Error(`F.${name} returned ${typeof out}, not a tensor`);
  return out;
}
