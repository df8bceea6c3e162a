// A study's distillation gains (issue 12): what the teachers add to a student, measured against
// the same architecture trained on the labels alone (CivT-KD − CivT-CE, DeiT-KD − DeiT-CE), not
// against another architecture. Per seed the control and the distilled run share the seed; the
// gain is reported as mean ± std over seeds, and judged as the claim "method > control" by the
// study's claim machinery (checkOrder: a margin within the seeds' spread is inconclusive).
import type { StudyGroup } from '../report/html';
import type { StudyGain } from '../report/gains';
import { meanStd } from '../report/html';
import { checkOrder } from './study';
import { methodReadout } from '../distill/registry';

export interface GainSpec { text: string; method: string; control: string }

export function distillationGains(specs: GainSpec[], groups: Map<string, StudyGroup>, metric: string): StudyGain[] {
  return specs.map((g) => {
    for (const k of [g.method, g.control]) if (!groups.has(k)) throw new Error(`gains: '${g.text}': no results for group '${k}'`);
    const value = (k: string, seed: number) => {
      const v = groups.get(k)!.runs.find((r) => r.seed === seed)?.[metric];
      return typeof v === 'number' ? v : undefined;
    };
    const perSeed = groups.get(g.method)!.runs.map((r) => r.seed)
      .flatMap((seed) => { const a = value(g.method, seed), b = value(g.control, seed); return a !== undefined && b !== undefined ? [{ seed, gain: a - b }] : []; });
    if (!perSeed.length) throw new Error(`gains: '${g.text}': ${g.method} and ${g.control} share no seed with a ${metric}`);
    const { mean, std } = meanStd(perSeed.map((p) => p.gain));
    const claim = checkOrder(`${g.method} > ${g.control}`, [g.method, g.control], groups, metric);
    return { text: g.text, method: g.method, control: g.control, metric, perSeed, mean, std, verdict: claim.verdict ?? (claim.holds ? 'holds' : 'does not hold'), detail: claim.detail ?? '' };
  });
}

/** "Top-1 read-out: a, b: <text>; c: <text>." for the study's variants (grouped by read-out). */
export function readoutNote(variants: { key: string; method: string; options: unknown }[]): string {
  const by = new Map<string, string[]>();
  for (const v of variants) {
    const r = methodReadout(v.method, v.options);
    by.set(r, [...(by.get(r) ?? []), v.key]);
  }
  return `Top-1 read-out: ${[...by].map(([r, ks]) => `${ks.join(', ')}: ${r}`).join('; ')}.`;
}
