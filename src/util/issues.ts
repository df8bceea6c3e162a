// One wording for zod's issues, shared by the run config (train/schema.ts) and the method options
// (distill/registry.ts): the key path, then what was expected and what came instead.
import type { ZodIssue } from 'zod';

export function issueMessage(i: ZodIssue): string {
  if (i.code === 'unrecognized_keys') return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`;
  if (i.code === 'invalid_type') return `expected ${i.expected}, got ${i.received === 'undefined' ? 'nothing (the key is required)' : i.received}`;
  if (i.code === 'invalid_enum_value') return `expected one of ${i.options.map((o) => `'${o}'`).join(', ')}, got '${i.received}'`;
  if (i.code === 'invalid_union_discriminator') return `expected one of ${i.options.map((o) => `'${String(o)}'`).join(', ')}`;
  if (i.code === 'invalid_literal') return `expected ${JSON.stringify(i.expected)}, got ${JSON.stringify(i.received)}`;
  return i.message;
}

export function issuePath(path: (string | number)[]): string {
  return path.length ? path.join('.') : '(top level)';
}

/** Edit distance with adjacent swaps counted as one edit (optimal string alignment), case-blind,
 *  for "did you mean" on names and keys: `widht` is one edit from `width`. */
export function editDistance(a: string, b: string, swaps = true): number {
  const x = a.toLowerCase(), y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
      if (swaps && i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

/** The nearest of `known` to `name` when it is a plausible typo (at most a third of its letters
 *  off) or a shortening (`warmup` for `warmupEpochs`). */
export function didYouMean(name: string, known: string[]): string | null {
  const lower = name.toLowerCase();
  const prefix = lower.length >= 3 ? known.filter((k) => k.toLowerCase().startsWith(lower)) : [];
  if (prefix.length === 1) return prefix[0];
  // plain Levenshtein first (its answer is kept where it has one); swaps of two letters next
  for (const swaps of [false, true]) {
    let best: string | null = null, bd = Infinity;
    for (const k of known) { const dd = editDistance(name, k, swaps); if (dd < bd) { bd = dd; best = k; } }
    if (best !== null && bd <= Math.max(1, Math.floor(name.length / 3))) return best;
  }
  return null;
}
