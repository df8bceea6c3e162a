// The classic KD family's pure losses (RepDistiller, mdistiller and each method's official code).
export * from './logit';
export * from './dkd';
export * from './kdcl';
export * from './at';
export * from './sp';
export * from './rkd';
export * from './pkt';
export * from './fsp';
export * from './overhaul';
export * from './crd';
export * from './deepinversion';
export * from './dist';
