// civet's CNN zoo in one import: registers resnet18/34/50, the RepDistiller CIFAR networks
// (resnet8…110, resnet8x4, resnet32x4, wrn_16/40_1/2), regnety_200mf/400mf/600mf/4gf and
// rednet26/38/50/101, each with its torchvision state-dict converter.
export * from './cnn_common';
export * from './resnet';
export * from './cifar_resnet';
export * from './regnet';
export * from './rednet';
