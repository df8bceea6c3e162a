// Weight-decay parameter groups as timm's param_groups_weight_decay: no decay for 1-d parameters
// (norm weights, biases), names ending in '.bias', and the model's no-weight-decay names (tokens,
// position embeddings).
import type { Tensor } from '../tensor';
import type { NamedParam } from './optimizer';

/** The module shape paramGroupsWeightDecay needs (civet's Module has it). */
export interface ModuleLike {
  namedParameters(): Iterable<[string, Tensor]>;
  namedModules?(): Iterable<[string, unknown]>;
}

/** Last name components that never get weight decay (what timm's models list in no_weight_decay()). */
export const DEFAULT_NO_WEIGHT_DECAY_TOKENS: readonly string[] = [
  'cls_token', 'dist_token', 'reg_token', 'mask_token', 'pos_embed', 'absolute_pos_embed', 'relative_position_bias_table',
];

export interface WeightDecayGroup { name: 'decay' | 'no_decay'; params: NamedParam[]; weightDecay: number }

export interface ParamGroupsWeightDecayOptions {
  /** more names without decay: a full name, a dotted suffix ('pos_embed' matches 'student.pos_embed') or an fnmatch pattern ('blocks.*.gamma') */
  skipList?: Iterable<string>;
  /** last name components without decay; default DEFAULT_NO_WEIGHT_DECAY_TOKENS (pass [] for timm's exact behaviour) */
  tokenNames?: Iterable<string>;
  /** also ask every submodule with a noWeightDecay() method (names relative to it; timm asks the top model only); default true */
  useModelNoWeightDecay?: boolean;
}

/** fnmatch-style pattern ('*', '?', '[seq]', '[!seq]') as an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = pattern.indexOf(']', i + 2);
      if (j < 0) { re += '\\['; continue; }
      let body = pattern.slice(i + 1, j).replace(/\\/g, '\\\\');
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body}]`;
      i = j;
    } else re += c.replace(/[.+^${}()|\\/-]/g, '\\$&').replace(']', '\\]');
  }
  return new RegExp(`^${re}$`);
}

function matcher(entries: string[]): (name: string) => boolean {
  const exact = new Set(entries);
  const globs = entries.filter((e) => /[*?[]/.test(e)).map(globToRegExp);
  return (name) => {
    if (exact.has(name)) return true;
    for (const e of entries) if (name.endsWith('.' + e)) return true;
    return globs.some((g) => g.test(name));
  };
}

/**
 * Two groups as timm's param_groups_weight_decay: `no_decay` (weightDecay 0) holds every trainable
 * parameter with ndim <= 1, a name ending in '.bias', a name matched by skipList, a last name component
 * in tokenNames (cls_token, dist_token, pos_embed, …), or a name returned by the noWeightDecay() of
 * the model or of any submodule (prefixed with that submodule's path); `decay` holds the rest.
 * Parameters with requiresGrad off are left out. Empty groups are left out, as in timm.
 */
export function paramGroupsWeightDecay(model: ModuleLike, weightDecay = 1e-5, opts: ParamGroupsWeightDecayOptions = {}): WeightDecayGroup[] {
  const skip = [...(opts.skipList ?? [])];
  if (opts.useModelNoWeightDecay ?? true) {
    const modules: Iterable<[string, unknown]> = model.namedModules ? model.namedModules() : [['', model]];
    for (const [prefix, m] of modules) {
      const fn = (m as { noWeightDecay?: () => Iterable<string> }).noWeightDecay;
      if (typeof fn !== 'function') continue;
      for (const n of fn.call(m)) skip.push(prefix ? `${prefix}.${n}` : n);
    }
  }
  const skipped = matcher(skip);
  const tokens = new Set(opts.tokenNames ?? DEFAULT_NO_WEIGHT_DECAY_TOKENS);
  const decay: NamedParam[] = [];
  const noDecay: NamedParam[] = [];
  for (const [name, tensor] of model.namedParameters()) {
    if (!tensor.requiresGrad) continue;
    const last = name.slice(name.lastIndexOf('.') + 1);
    if (tensor.ndim <= 1 || name.endsWith('.bias') || tokens.has(last) || skipped(name)) noDecay.push({ name, tensor });
    else decay.push({ name, tensor });
  }
  const groups: WeightDecayGroup[] = [];
  if (noDecay.length) groups.push({ name: 'no_decay', params: noDecay, weightDecay: 0 });
  if (decay.length) groups.push({ name: 'decay', params: decay, weightDecay });
  return groups;
}
