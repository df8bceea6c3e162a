// Distillation methods: importing this module registers every method and its conformance losses.
export * from './distiller';
export * from './registry';
export * from './losses/common';
import './methods/ce';
import './methods/classic';
import './conformance_part2';
import './conformance_part1';
import './methods/crossarch';
import './methods/tas';
