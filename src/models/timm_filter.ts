// timm checkpoints → civet models, after timm's checkpoint_filter_fn (timm/models/
// vision_transformer.py): civet's zoo already uses timm's state-dict names (ViT, DeiT, ResNet,
// RegNetY, Mixer), so the keys pass through; what changes is a ViT's absolute position embedding
// when the checkpoint was trained on another grid: its patch part is resampled (bicubic, as
// timm's resample_abs_pos_embed; civet's interpolate has no antialias, which only matters when
// the grid shrinks) and the prefix tokens are kept.
import { Tensor, F, cat } from '../tensor';
import type { Module } from '../nn/module';

export function timmCheckpointFilter(sd: Map<string, Tensor>, model: Module): { sd: Map<string, Tensor>; notes: string[] } {
  const notes: string[] = [];
  const out = new Map(sd);
  const own = model.stateDict();
  const src = sd.get('pos_embed'), dst = own.get('pos_embed');
  const prefix = (model as any).numPrefixTokens as number | undefined;
  if (src && dst && prefix !== undefined && src.shape[1] !== dst.shape[1] && src.shape[2] === dst.shape[2]) {
    const D = src.shape[2];
    const nOld = src.shape[1] - prefix, nNew = dst.shape[1] - prefix;
    const gOld = Math.round(Math.sqrt(nOld)), [gh, gw] = (model as any).gridSize as [number, number];
    if (gOld * gOld === nOld && gh * gw === nNew) {
      const grid = src.narrow(1, prefix, nOld).reshape(1, gOld, gOld, D).permute(0, 3, 1, 2);
      const res = F.interpolate(grid, { size: [gh, gw], mode: 'bicubic', align_corners: false }).permute(0, 2, 3, 1).reshape(1, gh * gw, D);
      out.set('pos_embed', cat([src.narrow(1, 0, prefix), res], 1));
      notes.push(`pos_embed resampled from a ${gOld}×${gOld} to a ${gh}×${gw} grid (bicubic)`);
    }
  }
  return { sd: out, notes };
}
