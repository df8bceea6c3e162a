// civet's front door: `import { createModel, train, F, tidy } from 'civet'`. Everything a library
// user needs, one import; the rooms below (src/<room>/) stay importable for the rest.
export * from './tensor';
export * from './nn';
export * from './optim';
export * from './data';
// nn and data both name a 2-d size Size2 (number | [h, w]); nn's is the one exported here
export type { Size2 } from './nn';
export { imagesToTensor, labelsToTensor, FMNIST_NORM, type Normalize } from './data/batch';

// models: importing the zoo registers every model
export { createModel, registerModel, listModels, modelEntry, type Classifier, type ModelOptions, type ModelEntry } from './models';

// distillation methods: importing registers every method
export * from './distill';

// training and studies
export { train, evaluateRun, NonFiniteError, RunDirError, type TrainOptions, type TrainSummary } from './train/trainer';
export { CheckpointError } from './train/checkpoints';
export { evaluate, fit, type EvalResult } from './train/fit';
export { buildRun } from './train/build';
export { loadConfig, ConfigError, ConfigSchema, type Config, type ConfigInput } from './train/schema';
export { runStudy, loadStudy, type StudyOptions, type StudyResult } from './experiments/study';

// weights: safetensors files, whole models
export { loadSafetensors, saveSafetensors, loadWeights, saveWeights } from './interop/weights';
export { readSafetensorsFile, writeSafetensorsFile, parseSafetensors, serializeSafetensors, SafetensorsError } from './interop/safetensors';
export { convertTorchvisionStateDict } from './interop/torchvision';

// distributed: c10d process groups (gloo; NCCL in CUDA builds) from torchrun's variables
export { ProcessGroup, Reducer, envRank, hasNccl } from './distributed';
export type { Backend, ReduceOp, GroupOptions } from './distributed';
