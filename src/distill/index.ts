// Distillation methods: importing this module registers every method.
export * from './distiller';
export * from './registry';
export * from './losses/common';
import './methods/ce';
import './methods/classic';
import './methods/crossarch';
