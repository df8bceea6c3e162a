// torch.optim.Adam (L2-coupled weight decay) shares AdamW's code: see adamw.ts.
export { Adam } from './adamw';
export type { AdamHyperparams, AdamOptions } from './adamw';
