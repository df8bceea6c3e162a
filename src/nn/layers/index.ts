export * from './linear';
export * from './conv';
export * from './norm';
export * from './basic';
export * from './mlp';
export * from './patch_embed';
export * from './attention';
export * from './involution';
