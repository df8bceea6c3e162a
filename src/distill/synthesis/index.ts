export * from './deepinversion';
export * from './active_mixup';
