// The model zoo: importing this module registers every model (and each model's torchvision
// state-dict converter).
export * from './registry';
import './resnet';
import './cifar_resnet';
import './regnet';
import './rednet';
import './vit';
import './vit_torchvision';
import './deit';
import './civt';
import './mixer';
import './tiny';
export * from './options';
