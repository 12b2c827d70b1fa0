import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from './constants.ts'
import { GearCandidateScanner } from './gear-scanner.ts'

/**
 * Finds Xet chunk boundaries in a stream (xet-core `Chunker`, hf_xet >= 1.1.10): a cut after a
 * byte where the top 16 bits of the gear hash are zero, never below MIN_CHUNK_SIZE (a match there
 * is ignored and the hash rolls on), always at MAX_CHUNK_SIZE. The gear hash of a byte depends only on
 * the 64 bytes ending there, so the cut candidates are found over the whole stream (GearCandidateScanner)
 * and the sizes decide which become cuts. Boundaries do not depend on how the stream is split into push()
 * calls. No hashing.
 */
export class ChunkBoundaryScanner {
  readonly #gear = new GearCandidateScanner()
  /** Stream offset where the open chunk starts. */
  #chunkStart = 0
  /** Stream offset of the end of the data pushed so far. */
  #offset = 0

  /** Where data to push may be read in place (up to its length), saving a copy: see GearCandidateScanner. */
  get input(): Uint8Array {
    return this.#gear.input
  }

  /** Absolute end offsets of the chunks completed by this data. */
  push(data: Uint8Array): number[] {
    const ends: number[] = []
    this.scan(data, ends)
    return ends
  }

  /** Like push, appending to `ends`. */
  scan(data: Uint8Array, ends: number[]): void {
    const base = this.#offset
    let start = this.#chunkStart
    this.#gear.scan(data, (i) => {
      const end = base + i + 1
      while (end - start > MAX_CHUNK_SIZE) ends.push((start += MAX_CHUNK_SIZE))
      if (end - start >= MIN_CHUNK_SIZE) ends.push((start = end))
    })
    this.#offset = base + data.length
    while (this.#offset - start >= MAX_CHUNK_SIZE) ends.push((start += MAX_CHUNK_SIZE))
    this.#chunkStart = start
  }

  /** The end of the stream: its offset if a remainder is pending. Resets for a new stream. */
  finish(): number[] {
    const ends = this.#offset > this.#chunkStart ? [this.#offset] : []
    this.reset()
    return ends
  }

  reset(): void {
    this.#chunkStart = 0
    this.#offset = 0
    this.#gear.reset()
  }

  /** Stream offset of the end of the data pushed so far. */
  get offset(): number {
    return this.#offset
  }

  /** Stream offset where the open (not yet cut) chunk starts. */
  get openChunkStart(): number {
    return this.#chunkStart
  }
}
