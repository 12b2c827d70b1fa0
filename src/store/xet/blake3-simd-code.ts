/**
 * Generates a small WebAssembly SIMD module that runs BLAKE3 compressions on four independent
 * inputs at once (one per 32-bit lane), in the style of BLAKE3's `hash_many`. blake3-simd.ts
 * drives it; all parameters are passed through memory at LAYOUT.
 */

import { get, i32Const, i32Load, moduleBytes, set, uleb } from './wasm-encoding.ts'

/** Byte offsets in the module's memory. */
export const LAYOUT = {
  /** i32 x 4: where each lane's first block is; the next block is 64 bytes further. */
  inPtrs: 0,
  /** i32 x 4: where each lane's 32-byte result goes. */
  outPtrs: 16,
  /** v128 each: per-lane counter, flags on every block, extra flags on the first and last block, length of the last block. */
  counterLo: 32,
  counterHi: 48,
  flagsAll: 64,
  flagsFirst: 80,
  flagsLast: 96,
  lastBlockLength: 112,
  /** i32 x 8: the key, the initial chaining value of every compression. */
  key: 128,
  /** 32 bytes: the root hash. */
  root: 192,
  /** Chaining values, 32 bytes each. */
  cvs: 1024,
  input: 8192,
} as const

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
const PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8]

// Locals: the parameter, then i32s, then v128s.
const BLOCKS = 0
const B = 1
const LAST = 2
const PTR = 3 // 4 lanes
const CV = 7 // 8
const V = 15 // 16
const M = 31 // 16
const T = 47 // 8 temporaries
const I32_LOCALS = 6
const V128_LOCALS = 8 + 16 + 16 + 8

const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...uleb(op), ...imm]
const v128Load = (offset: number): number[] => simd(0x00, 0x00, ...uleb(offset))
const v128Store = (offset: number): number[] => simd(0x0b, 0x00, ...uleb(offset))
const splat32 = (offset: number): number[] => simd(0x09, 0x02, ...uleb(offset))
const v128Const = (words: number[]): number[] =>
  simd(0x0c, ...words.flatMap((w) => [w, w >>> 8, w >>> 16, w >>> 24].map((b) => b & 0xff)))
const shuffle = (lanes: number[]): number[] => simd(0x0d, ...lanes)
const ADD = simd(0xae)
const XOR = simd(0x51)
const OR = simd(0x50)
const SHL = simd(0xab)
const SHR_U = simd(0xad)
const SELECT_V128 = [0x1c, 0x01, 0x7b]

/** Byte shuffle of 32-bit words w0..w3 taken from the two operands (0-3 first, 4-7 second). */
const words = (...ws: number[]): number[] => ws.flatMap((w) => [w * 4, w * 4 + 1, w * 4 + 2, w * 4 + 3])
// Rotations by whole bytes are one byte shuffle (of the value with itself).
const byteRotation = (lanes: number[]): number[] => [set(T), get(T), get(T), shuffle(lanes)].flat()
const ROTR16 = byteRotation([2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13])
const ROTR8 = byteRotation([1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12])
const rotr = (n: number): number[] =>
  [set(T), get(T), i32Const(n), SHR_U, get(T), i32Const(32 - n), SHL, OR].flat()

/** Transposes the 4x4 words in locals `from` into locals `to` (may overlap only if identical). */
function transpose(from: number[], to: number[]): number[] {
  const [a, b, c, d] = from
  const [t0, t1, t2, t3] = [T + 4, T + 5, T + 6, T + 7]
  const pair = (x: number, y: number, lanes: number[], out: number): number[] =>
    [get(x), get(y), shuffle(lanes), set(out)].flat()
  return [
    ...pair(a, b, words(0, 4, 1, 5), t0),
    ...pair(a, b, words(2, 6, 3, 7), t1),
    ...pair(c, d, words(0, 4, 1, 5), t2),
    ...pair(c, d, words(2, 6, 3, 7), t3),
    ...pair(t0, t2, words(0, 1, 4, 5), to[0]),
    ...pair(t0, t2, words(2, 3, 6, 7), to[1]),
    ...pair(t1, t3, words(0, 1, 4, 5), to[2]),
    ...pair(t1, t3, words(2, 3, 6, 7), to[3]),
  ]
}

/** x = x + y (+ local m). */
const addInto = (x: number, y: number, m?: number): number[] =>
  [get(x), get(y), ADD, m === undefined ? [] : [...get(m), ...ADD], set(x)].flat()
/** x = rotate(x ^ y). */
const xorRotate = (x: number, y: number, rotate: number[]): number[] =>
  [get(x), get(y), XOR, rotate, set(x)].flat()

/** The BLAKE3 quarter-round on state words a, b, c, d with message words x, y. */
function g(a: number, b: number, c: number, d: number, x: number, y: number): number[] {
  const [va, vb, vc, vd] = [V + a, V + b, V + c, V + d]
  return [
    [addInto(va, vb, M + x), xorRotate(vd, va, ROTR16), addInto(vc, vd), xorRotate(vb, vc, rotr(12))],
    [addInto(va, vb, M + y), xorRotate(vd, va, ROTR8), addInto(vc, vd), xorRotate(vb, vc, rotr(7))],
  ].flat(2)
}

function rounds(): number[] {
  const code: number[] = []
  let s = Array.from({ length: 16 }, (_, i) => i)
  for (let round = 0; round < 7; round++) {
    code.push(...g(0, 4, 8, 12, s[0], s[1]), ...g(1, 5, 9, 13, s[2], s[3]))
    code.push(...g(2, 6, 10, 14, s[4], s[5]), ...g(3, 7, 11, 15, s[6], s[7]))
    code.push(...g(0, 5, 10, 15, s[8], s[9]), ...g(1, 6, 11, 12, s[10], s[11]))
    code.push(...g(2, 7, 8, 13, s[12], s[13]), ...g(3, 4, 9, 14, s[14], s[15]))
    s = PERMUTATION.map((p) => s[p])
  }
  return code
}

/** compress4(blocks): `blocks` chained compressions per lane, keyed, with flags and lengths from LAYOUT. */
function compress4Body(): number[] {
  const lanes = [0, 1, 2, 3]
  const q = [T, T + 1, T + 2, T + 3]
  const code: number[] = []
  for (const l of lanes) code.push(...i32Const(0), ...i32Load(LAYOUT.inPtrs + 4 * l), ...set(PTR + l))
  code.push(...get(BLOCKS), ...i32Const(1), 0x6b /* i32.sub */, ...set(LAST))
  for (let i = 0; i < 8; i++) code.push(...i32Const(0), ...splat32(LAYOUT.key + 4 * i), ...set(CV + i))
  code.push(...i32Const(0), ...set(B))
  code.push(0x02, 0x40, 0x03, 0x40) // block, loop
  for (let group = 0; group < 4; group++) {
    for (const l of lanes) code.push(...get(PTR + l), ...v128Load(16 * group), ...set(q[l]))
    code.push(
      ...transpose(
        q,
        [0, 1, 2, 3].map((k) => M + 4 * group + k),
      ),
    )
  }
  for (let i = 0; i < 8; i++) code.push(...get(CV + i), ...set(V + i))
  for (let i = 0; i < 4; i++) code.push(...v128Const([IV[i], IV[i], IV[i], IV[i]]), ...set(V + 8 + i))
  code.push(...i32Const(0), ...v128Load(LAYOUT.counterLo), ...set(V + 12))
  code.push(...i32Const(0), ...v128Load(LAYOUT.counterHi), ...set(V + 13))
  const isLast = [...get(B), ...get(LAST), 0x46 /* i32.eq */]
  code.push(
    ...i32Const(0),
    ...v128Load(LAYOUT.lastBlockLength),
    ...v128Const([64, 64, 64, 64]),
    ...isLast,
    ...SELECT_V128,
  )
  code.push(...set(V + 14))
  code.push(...i32Const(0), ...v128Load(LAYOUT.flagsAll))
  code.push(
    ...i32Const(0),
    ...v128Load(LAYOUT.flagsFirst),
    ...v128Const([0, 0, 0, 0]),
    ...get(B),
    0x45 /* i32.eqz */,
  )
  code.push(...SELECT_V128, ...OR)
  code.push(
    ...i32Const(0),
    ...v128Load(LAYOUT.flagsLast),
    ...v128Const([0, 0, 0, 0]),
    ...isLast,
    ...SELECT_V128,
    ...OR,
  )
  code.push(...set(V + 15))
  code.push(...rounds())
  for (let i = 0; i < 8; i++) code.push(...get(V + i), ...get(V + 8 + i), ...XOR, ...set(CV + i))
  for (const l of lanes) code.push(...get(PTR + l), ...i32Const(64), 0x6a /* i32.add */, ...set(PTR + l))
  code.push(...get(B), ...i32Const(1), 0x6a, ...set(B))
  code.push(...get(B), ...get(BLOCKS), 0x49 /* i32.lt_u */, 0x0d, 0x00 /* br_if loop */, 0x0b, 0x0b)
  for (let half = 0; half < 2; half++) {
    code.push(
      ...transpose(
        [0, 1, 2, 3].map((k) => CV + 4 * half + k),
        q,
      ),
    )
    for (const l of lanes) {
      code.push(...i32Const(0), ...i32Load(LAYOUT.outPtrs + 4 * l), ...get(q[l]), ...v128Store(16 * half))
    }
  }
  return code
}

/** The module: exports `compress4(blocks: i32)` and its `memory` of `pages` 64 KiB pages. */
export function blake3SimdModuleBytes(pages: number): Uint8Array {
  return moduleBytes(
    {
      name: 'compress4',
      params: [0x7f],
      locals: [
        [I32_LOCALS, 0x7f],
        [V128_LOCALS, 0x7b],
      ],
      body: compress4Body(),
    },
    pages,
  )
}
