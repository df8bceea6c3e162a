// Public surface of the data layer: loaders produce uint8 NHWC images + int32 labels; samplers
// produce index sequences. Nothing here depends on the tensor engine.
export * from './errors';
export * from './dataset';
export * from './idx';
export * from './fashion_mnist';
export * from './cifar';
export * from './image_folder';
export * from './sampler';
export * from './transforms';
export * from './randaugment';
export * from './mix';
export * from './loader';
