// The golden evaluators, loaded by the conformance runner only (a training run never imports them).
import './losses_crossarch';
import './losses_classic';
import './models_torchvision_cnn';
import './models_torchvision_vit';
export { functionalNames, functionalParams, callFunctional } from './functional';
export { TENSOR_METHOD_CASES } from './tensor_methods';
export { isCivetModel, evaluateCivetModel } from './models_civet';
