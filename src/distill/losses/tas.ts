// Loss pieces of TAS (Li et al., arXiv 2410.12342, "Distilling Arbitrary Teacher and Student via
// a Hybrid Assistant"). No official code exists: these are the abstract's
// ingredients — spatial smoothing (average pooling) before a spatial-agnostic InfoNCE feature
// loss, and OFA's logit loss — written as pure functions. Every default that the paper would fix
// (pool size, temperature, weights) is "to be confirmed from the paper PDF".
import { Tensor, F, arange } from '../../tensor';
import { ofaLoss } from './crossarch';

/** Tokens [B, P+N, D] (P prefix tokens, N = gh·gw patches) → map [B, D, gh, gw]; maps pass through. */
export function tokensToMap(f: Tensor, prefix: number, grid?: [number, number]): Tensor {
  if (f.ndim === 4) return f;
  if (f.ndim !== 3) throw new Error(`tas: expected a feature map [B, C, H, W] or tokens [B, L, D], got [${f.shape}]`);
  const [B, L, D] = f.shape;
  const n = L - prefix;
  const [gh, gw] = grid ?? [Math.round(Math.sqrt(n)), Math.round(Math.sqrt(n))];
  if (gh * gw !== n) throw new Error(`tas: ${n} patch tokens do not fill a ${gh}×${gw} grid`);
  return f.slice(1, prefix, L).permute(0, 2, 1).reshape(B, D, gh, gw);
}

/**
 * Spatial smoothing (TO BE CONFIRMED from the paper: kernel/output size): average pooling of a
 * feature map to poolSize × poolSize, flattened to [B, C·poolSize²]. poolSize 1 = global pooling.
 */
export function spatialSmooth(f: Tensor, poolSize: number): Tensor {
  const p = Math.min(poolSize, f.shape[2], f.shape[3]);
  return F.adaptive_avg_pool2d(f, [p, p]).flatten(1);
}

/**
 * InfoNCE between two batches of embeddings [B, d]: the query of sample i must pick the key of
 * the same sample among the batch's keys. Both are L2-normalised; logits = q·kᵀ / τ; mean CE.
 * (Temperature: TO BE CONFIRMED from the paper; 0.07 and 0.1 are the usual values.)
 */
export function infoNce(query: Tensor, key: Tensor, temperature: number): Tensor {
  if (query.shape[0] !== key.shape[0]) throw new Error(`infoNce: batch sizes differ (${query.shape[0]} vs ${key.shape[0]})`);
  const q = F.normalize(query, { dim: 1 });
  const k = F.normalize(key, { dim: 1 });
  const logits = q.matmul(k.t()).div(temperature);
  return F.cross_entropy(logits, arange(query.shape[0], undefined, 1, { device: query.device }));
}

/** One directed TAS relation source → target: OFA(target logits ← source logits) and InfoNCE(target embedding ↔ source embedding). */
export function tasPairLoss(
  src: { logits: Tensor; embed: Tensor }, dst: { logits: Tensor; embed: Tensor }, target: Tensor,
  o: { eps: number; ofaTemperature: number; nceTemperature: number },
): { ofa: Tensor; nce: Tensor } {
  return { ofa: ofaLoss(dst.logits, src.logits, target, o.eps, o.ofaTemperature), nce: infoNce(dst.embed, src.embed, o.nceTemperature) };
}
