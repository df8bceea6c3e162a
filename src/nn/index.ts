export * from './module';
export * as init from './init';
export * from './layers';
