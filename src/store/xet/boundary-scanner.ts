import { Hasher } from 'gearhash-jit'
import { GEAR_MASK, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, SCAN_START } from './constants.ts'

/**
 * Finds Xet chunk boundaries in a stream (xet-core `Chunker`, hf_xet >= 1.1.10): a cut after a
 * byte where the top 16 bits of the gear hash are zero, never below MIN_CHUNK_SIZE (a match there
 * is ignored and the hash rolls on), always at MAX_CHUNK_SIZE. Boundaries do not depend on how the
 * stream is split into push() calls. No hashing, no copies.
 */
export class ChunkBoundaryScanner {
  #gear = new Hasher(GEAR_MASK)
  /** Bytes of the open chunk seen so far. */
  #chunkLength = 0
  /** Stream offset of the end of the data pushed so far. */
  #offset = 0

  /** Absolute end offsets of the chunks completed by this data. */
  push(data: Uint8Array): number[] {
    const ends: number[] = []
    this.scan(data, ends)
    return ends
  }

  /** Like push, appending to `ends`. */
  scan(data: Uint8Array, ends: number[]): void {
    const base = this.#offset
    const n = data.length
    let length = this.#chunkLength
    let i = 0
    while (i < n) {
      if (length < SCAN_START) {
        // The gear hash of a chunk starts at SCAN_START with h = 0 (it is 0 after every cut).
        const skip = Math.min(SCAN_START - length, n - i)
        length += skip
        i += skip
        continue
      }
      const limit = Math.min(n - i, MAX_CHUNK_SIZE - length)
      const match = this.#gear.nextMatch(data.subarray(i, i + limit))
      if (match === -1) {
        length += limit
        i += limit
        if (length < MAX_CHUNK_SIZE) continue
      } else {
        length += match
        i += match
        if (length < MIN_CHUNK_SIZE) continue
      }
      ends.push(base + i)
      length = 0
      this.#gear.resetHash()
    }
    this.#chunkLength = length
    this.#offset = base + n
  }

  /** The end of the stream: its offset if a remainder is pending. Resets for a new stream. */
  finish(): number[] {
    const ends = this.#chunkLength > 0 ? [this.#offset] : []
    this.reset()
    return ends
  }

  reset(): void {
    this.#chunkLength = 0
    this.#offset = 0
    this.#gear.resetHash()
  }

  /** Stream offset of the end of the data pushed so far. */
  get offset(): number {
    return this.#offset
  }

  /** Stream offset where the open (not yet cut) chunk starts. */
  get openChunkStart(): number {
    return this.#offset - this.#chunkLength
  }
}
