import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { ChunkBoundaryScanner } from './boundary-scanner.ts'
import type { ChunkPipeline } from './chunk-pipeline.ts'
import { MAX_CHUNK_SIZE } from './constants.ts'
import { keyedHashers } from './keyed-hashers.ts'
import type { ChunkInfo } from './types.ts'

/** Input is handled in slices of this size, with a turn of the event loop (and an abort check) between. */
const SLICE_BYTES = 16 << 20

/** Scans and hashes on the calling thread, straight from the caller's buffer. */
export class InlineChunkPipeline implements ChunkPipeline {
  readonly #scanner = new ChunkBoundaryScanner()
  /** Bytes of the open chunk that arrived in earlier pushes (always < MAX_CHUNK_SIZE). */
  readonly #carry = new Uint8Array(MAX_CHUNK_SIZE)
  #carryLength = 0

  get input(): Uint8Array {
    return this.#scanner.input
  }

  async push(data: Uint8Array, signal?: AbortSignal): Promise<ChunkInfo[]> {
    const chunks: ChunkInfo[] = []
    for (let at = 0; at < data.length; at += SLICE_BYTES) {
      signal?.throwIfAborted()
      if (at > 0) await yieldToEventLoop()
      this.#pushSlice(data.subarray(at, at + SLICE_BYTES), chunks)
    }
    return chunks
  }

  async finish(signal?: AbortSignal): Promise<ChunkInfo[]> {
    signal?.throwIfAborted()
    const start = this.#scanner.openChunkStart
    const chunks = this.#scanner.finish().map((end) => this.#chunk(start, end, new Uint8Array(0)))
    this.#carryLength = 0
    return chunks
  }

  reset(): void {
    this.#scanner.reset()
    this.#carryLength = 0
  }

  async close(): Promise<void> {}

  #pushSlice(data: Uint8Array, chunks: ChunkInfo[]): void {
    const base = this.#scanner.offset
    let start = this.#scanner.openChunkStart
    for (const end of this.#scanner.push(data)) {
      chunks.push(this.#chunk(start, end, data.subarray(Math.max(0, start - base), end - base)))
      start = end
    }
    // Keep the open chunk's bytes: the caller may reuse `data` once push resolves.
    const tail = data.subarray(Math.max(0, start - base))
    this.#carry.set(tail, this.#carryLength)
    this.#carryLength += tail.length
  }

  /** The chunk [start, end): the carried bytes (if it began in an earlier push) then `rest`. */
  #chunk(start: number, end: number, rest: Uint8Array): ChunkInfo {
    const hasher = keyedHashers().data
    const hash =
      this.#carryLength === 0
        ? hasher.digest(rest)
        : hasher.digest(this.#carry.subarray(0, this.#carryLength), rest)
    this.#carryLength = 0
    return { offset: start, length: end - start, hash }
  }
}
