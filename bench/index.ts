// Every `civet bench` workload, in one explicit list: a workload exists when it is named here, and
// a module that is missing is a build error, never a silent skip.
import { runOne, type BenchArgs, type BenchResult, type WorkloadDef } from './workloads';
import { opOverhead } from './workloads';
import { loaderFmnist, loaderImageFolder } from './workloads_loader';
import { resnet18_32 } from './workloads_cnn';
import { vitTi32 } from './workloads_vit';
import { civtStep } from './workloads_civt';
import { deitStepWorkload } from './workloads_deit';
import { ddpScaling } from './workloads_ddp';

export const WORKLOADS: readonly WorkloadDef[] = [opOverhead, loaderFmnist, loaderImageFolder, resnet18_32, vitTi32, civtStep, deitStepWorkload, ddpScaling];

export function listWorkloads(): [string, string][] { return WORKLOADS.map((w) => [w.name, w.describe]); }

export function runWorkload(name: string, a: BenchArgs): Promise<BenchResult> {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`unknown bench workload '${name}' (known: ${WORKLOADS.map((x) => x.name).join(', ')})`);
  return runOne(w, a);
}

export { defaultThreads, timeSteps, median, type BenchArgs, type BenchResult, type WorkloadDef } from './workloads';
