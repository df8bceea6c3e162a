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

/** Levenshtein distance, for "did you mean" on names and keys. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]; d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** The nearest of `known` to `name` when it is a plausible typo (at most a third of its letters
 *  off) or a shortening (`warmup` for `warmupEpochs`). */
export function didYouMean(name: string, known: string[]): string | null {
  const lower = name.toLowerCase();
  const prefix = lower.length >= 3 ? known.filter((k) => k.toLowerCase().startsWith(lower)) : [];
  if (prefix.length === 1) return prefix[0];
  let best: string | null = null, bd = Infinity;
  for (const k of known) { const dd = editDistance(name, k); if (dd < bd) { bd = dd; best = k; } }
  return best !== null && bd <= Math.max(1, Math.floor(name.length / 3)) ? best : null;
}
