// Two parts of a report that say what a number means: a study's distillation gains (each
// distilled variant against the same architecture trained without teachers, issue 12) and the
// read-out each run's top-1 uses (Co-advise's mean of three heads, DeiT's mean of two, …).
import { esc } from './svg';
import type { ClaimVerdict } from './html';
import type { RunData } from './runs';

/** A distilled variant against its no-teacher control on the same architecture. */
export interface StudyGain {
  text: string;
  method: string;
  control: string;
  metric: string;
  /** per seed: method − control on the same seed */
  perSeed: { seed: number; gain: number }[];
  /** mean and sample std (n − 1; NaN for one seed) of the per-seed gains */
  mean: number;
  std: number;
  /** the claim 'method > control' as the study's claims judge it (means, margin against the seeds' spread) */
  verdict: ClaimVerdict;
  detail: string;
}

const CLASS: Record<ClaimVerdict, string> = { holds: 'holds', inconclusive: 'inconclusive', 'does not hold': 'fails' };
const BADGE: Record<ClaimVerdict, string> = { holds: '✓ holds', inconclusive: '? inconclusive', 'does not hold': '✗ does not hold' };

/** '+0.60 ± 0.80 pts' for accuracies (fractions), plain numbers otherwise. */
export function fmtGain(g: Pick<StudyGain, 'mean' | 'std' | 'metric'>): string {
  const pct = /^top\d/.test(g.metric), s = pct ? 100 : 1, unit = pct ? ' pts' : '';
  const f = (v: number) => (pct ? (s * v).toFixed(2) : v.toFixed(4));
  return `${g.mean >= 0 ? '+' : '−'}${f(Math.abs(g.mean))}${Number.isNaN(g.std) ? '' : ` ± ${f(g.std)}`}${unit}`;
}

/** One line per gain: what it is, mean ± std over seeds, its verdict and the claim's detail. */
export function gainLines(gains: StudyGain[]): string[] {
  return gains.map((g) => `${BADGE[g.verdict]}: ${g.text} (${g.method} − ${g.control}): ${g.metric} ${fmtGain(g)} over ${g.perSeed.length} seed${g.perSeed.length === 1 ? '' : 's'}` +
    ` (per seed: ${g.perSeed.map((p) => `${p.seed}: ${fmtGain({ mean: p.gain, std: NaN, metric: g.metric })}`).join(', ')}) — ${g.detail}`);
}

export function renderGains(gains: StudyGain[]): string {
  if (!gains.length) return '';
  const items = gains.map((g) => {
    const line = gainLines([g])[0];
    return `<li class="${CLASS[g.verdict]}"><span class="badge">${BADGE[g.verdict]}</span>${esc(g.text)}: <b>${esc(fmtGain(g))}</b>` +
      `<div class="detail">${esc(line.slice(line.indexOf(': ') + 2))}</div></li>`;
  });
  return `<h2>Distillation gains (each against its own architecture without teachers, mean ± std over seeds)</h2><ul class="claims">${items.join('\n')}</ul>`;
}

/** The read-out each run's top-1 uses, where a run says (summary.json `readout`). */
export function renderReadouts(runs: RunData[]): string {
  const named = runs.filter((r) => typeof r.summary.readout === 'string');
  if (!named.length) return '';
  return `<p class="detail">Top-1 read-out: ${named.map((r) => `${esc(r.name)}: ${esc(String(r.summary.readout))}`).join('; ')}.</p>`;
}
