// The model zoo: importing this module registers every model (and the conformance evaluators
// for torchvision's architectures).
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
import './conformance_cnn';
import './conformance_vit';
import './tiny';
