import { Buffer } from 'node:buffer'
import { blake3SimdModuleBytes, LAYOUT } from './blake3-simd-code.ts'
import { copyBytes } from './copy-bytes.ts'
import { wasm } from './wasm-encoding.ts'

const BLOCK_LEN = 64
const CHUNK_LEN = 1024
const CHUNK_START = 1
const CHUNK_END = 2
const PARENT = 4
const ROOT = 8
const KEYED_HASH = 16

/** Largest input hashed in one go: a maximum-size Xet chunk. */
export const SIMD_MAX_INPUT = 128 * 1024
const PAGES = Math.ceil((LAYOUT.input + SIMD_MAX_INPUT + BLOCK_LEN) / 65536)

// i32 indices into memory
const IN = LAYOUT.inPtrs / 4
const OUT = LAYOUT.outPtrs / 4
const COUNTER = LAYOUT.counterLo / 4
const FLAGS_ALL = LAYOUT.flagsAll / 4
const FLAGS_FIRST = LAYOUT.flagsFirst / 4
const FLAGS_LAST = LAYOUT.flagsLast / 4
const LAST_LENGTH = LAYOUT.lastBlockLength / 4

let compiled: object | undefined | null

/** Whether this runtime has WebAssembly SIMD (Node has had it since 16). */
export function blake3SimdSupported(): boolean {
  if (compiled === undefined) {
    const bytes = blake3SimdModuleBytes(PAGES)
    compiled = wasm.validate(bytes) ? new wasm.Module(bytes) : null
  }
  return compiled !== null
}

/**
 * Keyed BLAKE3 of inputs up to SIMD_MAX_INPUT, 32-byte output. The 1 KiB BLAKE3 chunks of an
 * input are compressed four at a time, then the parent nodes, level by level, also four at a time
 * (pairing neighbours level by level, an odd one out moving up, gives BLAKE3's left-full tree).
 */
export class KeyedBlake3Simd {
  readonly #compress4: (blocks: number) => void
  /** Copy target (Buffer copies are faster); #bytes gives plain Uint8Array results. */
  readonly #mem: Buffer
  readonly #bytes: Uint8Array
  readonly #words: Uint32Array

  constructor(key: Uint8Array) {
    if (!blake3SimdSupported() || compiled == null) throw new Error('WebAssembly SIMD is not available')
    if (key.length !== 32) throw new RangeError('a BLAKE3 key has 32 bytes')
    const instance = new wasm.Instance(compiled)
    this.#compress4 = instance.exports.compress4 as (blocks: number) => void
    const memory = instance.exports.memory as { buffer: ArrayBuffer }
    this.#mem = Buffer.from(memory.buffer)
    this.#bytes = new Uint8Array(memory.buffer)
    this.#words = new Uint32Array(memory.buffer)
    this.#mem.set(key, LAYOUT.key)
  }

  /** The hash of `data` followed by `more`, together at most SIMD_MAX_INPUT bytes. */
  hash(data: Uint8Array, more?: Uint8Array): Uint8Array {
    const n = data.length + (more?.length ?? 0)
    if (n > SIMD_MAX_INPUT) throw new RangeError(`input of ${n} bytes is over ${SIMD_MAX_INPUT}`)
    const mem = this.#mem
    copyBytes(mem, LAYOUT.input, data)
    if (more !== undefined) copyBytes(mem, LAYOUT.input + data.length, more)
    // Zero the rest of the last block: its unused bytes are part of the compression input.
    mem.fill(0, LAYOUT.input + n, LAYOUT.input + Math.max(BLOCK_LEN, Math.ceil(n / BLOCK_LEN) * BLOCK_LEN))
    if (n <= CHUNK_LEN) {
      this.#chunks(1, n, 0, LAYOUT.root, ROOT)
      return this.#bytes.slice(LAYOUT.root, LAYOUT.root + 32)
    }
    const chunks = Math.ceil(n / CHUNK_LEN)
    const full = Math.floor(n / CHUNK_LEN)
    for (let c = 0; c < full; c += 4)
      this.#chunks(Math.min(4, full - c), CHUNK_LEN, c, LAYOUT.cvs + 32 * c, 0)
    if (full < chunks) this.#chunks(1, n - full * CHUNK_LEN, full, LAYOUT.cvs + 32 * full, 0)
    let count = chunks
    while (count > 2) {
      const parents = count >> 1
      for (let p = 0; p < parents; p += 4) {
        this.#run(
          Math.min(4, parents - p),
          1,
          LAYOUT.cvs + 64 * p,
          64,
          LAYOUT.cvs + 32 * p,
          0,
          PARENT,
          0,
          0,
          BLOCK_LEN,
        )
      }
      if (count % 2 === 1)
        mem.copyWithin(LAYOUT.cvs + 32 * parents, LAYOUT.cvs + 32 * (count - 1), LAYOUT.cvs + 32 * count)
      count = parents + (count % 2)
    }
    this.#run(1, 1, LAYOUT.cvs, 64, LAYOUT.root, 0, PARENT | ROOT, 0, 0, BLOCK_LEN)
    return this.#bytes.slice(LAYOUT.root, LAYOUT.root + 32)
  }

  /** `lanes` consecutive chunks of `length` bytes, from chunk index `first`, CVs to `out` on. */
  #chunks(lanes: number, length: number, first: number, out: number, lastFlags: number): void {
    const blocks = Math.max(1, Math.ceil(length / BLOCK_LEN))
    const lastLength = length - (blocks - 1) * BLOCK_LEN
    const input = LAYOUT.input + CHUNK_LEN * first
    this.#run(lanes, blocks, input, CHUNK_LEN, out, first, 0, CHUNK_START, CHUNK_END | lastFlags, lastLength)
  }

  #run(
    lanes: number,
    blocks: number,
    input: number,
    inputStride: number,
    out: number,
    counter: number,
    flags: number,
    firstFlags: number,
    lastFlags: number,
    lastLength: number,
  ): void {
    const w = this.#words
    for (let l = 0; l < 4; l++) {
      // Unused lanes repeat the last used one: same input, same result, same place.
      const i = Math.min(l, lanes - 1)
      w[IN + l] = input + i * inputStride
      w[OUT + l] = out + i * 32
      w[COUNTER + l] = flags & PARENT ? 0 : counter + i
      w[FLAGS_ALL + l] = flags | KEYED_HASH
      w[FLAGS_FIRST + l] = firstFlags
      w[FLAGS_LAST + l] = lastFlags
      w[LAST_LENGTH + l] = lastLength
    }
    this.#compress4(blocks)
  }
}
