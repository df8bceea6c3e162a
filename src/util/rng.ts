// Seedable PRNG: xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c).
// Chosen because it needs only 32-bit integer operations, which JS does natively and fast
// (PCG32 would need 64-bit multiplies, i.e. BigInt on every draw). The whole state is four
// uint32 words, so getState()/setState() round-trip through JSON and a data pipeline can be
// checkpointed mid-epoch and resumed bit-exactly.
//
// Seeding expands a 64-bit seed with SplitMix64 (as recommended by the xoshiro authors) so that
// nearby seeds (0, 1, 2, ...) give unrelated streams. BigInt is only used there, once per Rng.

export interface RngState {
  algorithm: 'xoshiro128**';
  /** The four uint32 state words. */
  s: [number, number, number, number];
}

export type Seed = number | bigint;

const MASK64 = (1n << 64n) - 1n;

/** One SplitMix64 step: returns [nextState, output]. */
export function splitmix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

function toU64(seed: Seed, what: string): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new RangeError(`rng: ${what} must be a safe integer or bigint, got ${seed}`);
  }
  return BigInt.asUintN(64, BigInt(seed));
}

/** Hash a seed plus integer keys (e.g. epoch, rank) into one 64-bit seed; order matters. */
export function deriveSeed(seed: Seed, ...keys: Seed[]): bigint {
  let h = splitmix64(toU64(seed, 'seed'))[1];
  for (const k of keys) h = splitmix64(h ^ toU64(k, 'key'))[1];
  return h;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: Seed = 0) {
    let sm = toU64(seed, 'seed');
    let a: bigint;
    let b: bigint;
    [sm, a] = splitmix64(sm);
    [sm, b] = splitmix64(sm);
    // Low word first, like reading the 16 seed bytes little-endian.
    this.setWords(
      Number(a & 0xffffffffn),
      Number(a >> 32n),
      Number(b & 0xffffffffn),
      Number(b >> 32n),
    );
  }

  /** An Rng whose stream depends on (seed, ...keys), e.g. Rng.derive(seed, epoch). */
  static derive(seed: Seed, ...keys: Seed[]): Rng {
    return new Rng(deriveSeed(seed, ...keys));
  }

  /** An Rng with the raw state words given (no seeding); for tests against reference vectors. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  private setWords(a: number, b: number, c: number, d: number): void {
    // The all-zero state is a fixed point of xoshiro; SplitMix64 never yields two zero outputs
    // in a row in practice, but setState() could be handed one.
    if ((a | b | c | d) === 0) throw new RangeError('rng: xoshiro128** state must not be all zero');
    this.s0 = a >>> 0;
    this.s1 = b >>> 0;
    this.s2 = c >>> 0;
    this.s3 = d >>> 0;
  }

  /** Next uint32 in [0, 2^32). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Float in [0, 1) with 53 random bits (two draws). */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling); 1 <= n <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new RangeError(`rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    // Reject the top partial bucket so every residue is equally likely.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const u = this.nextU32();
      if (u < limit) return u % n;
    }
  }

  /** Standard normal via Box-Muller. Uses exactly two next() calls and caches nothing, so the
   *  generator state alone (getState) determines every future draw. */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.next(); // (0, 1], keeps log finite
    const u2 = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** In-place Fisher-Yates shuffle (Durstenfeld); returns the same array. */
  shuffle<A extends { length: number; [i: number]: any }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
      throw new RangeError(`rng.permutation: n must be an integer in [0, 2^31), got ${n}`);
    }
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  getState(): RngState {
    return { algorithm: 'xoshiro128**', s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0] };
  }

  setState(state: RngState): void {
    if (!state || state.algorithm !== 'xoshiro128**' || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new TypeError(`rng.setState: expected {algorithm: 'xoshiro128**', s: [4 x uint32]}, got ${JSON.stringify(state)}`);
    }
    for (const w of state.s) {
      if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) {
        throw new RangeError(`rng.setState: state word ${w} is not a uint32`);
      }
    }
    this.setWords(state.s[0], state.s[1], state.s[2], state.s[3]);
  }

  clone(): Rng {
    return Rng.fromState(this.getState());
  }
}
