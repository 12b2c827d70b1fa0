import { availableParallelism } from 'node:os'
import type { ChunkPipeline } from './chunk-pipeline.ts'
import { XetChunkerStateError } from './errors.ts'
import { InlineChunkPipeline } from './inline-pipeline.ts'
import { blake3Backend } from './keyed-blake3.ts'
import { initXet } from './keyed-hashers.ts'
import { PooledChunkPipeline } from './pooled-pipeline.ts'
import type { ChunkInfo } from './types.ts'

export interface XetChunkerOptions {
  /** Hash worker threads; default defaultWorkerCount(); 0 hashes on the calling thread. */
  workers?: number
}

type ChunkerState = 'open' | 'finished' | 'broken' | 'closed'

/**
 * Hash workers a chunker uses by default. None with the native BLAKE3 (4 GB/s): the calling thread then
 * chunks and hashes 1 GiB at 1,298 MB/s and 0.84 CPU-s, where handing chunks to 2 workers gave 951 MB/s
 * for 1.44 CPU-s (copies into shared slabs and messages cost more than the hashing they move). With the
 * wasm fallback (1.3 GB/s), min(2, cores).
 */
export function defaultWorkerCount(): number {
  return blake3Backend() === 'native' ? 0 : Math.min(2, availableParallelism())
}

/**
 * Streaming Xet chunking and chunk hashing of one file at a time. With workers, the calling thread
 * scans for boundaries while the workers hash, so push() may return chunks some pushes after
 * their bytes arrived; finish() returns the rest. Boundaries never depend on how the input is
 * split. One call at a time; a failed or aborted call leaves the chunker unusable until reset().
 */
export class XetChunker {
  readonly #pipeline: ChunkPipeline
  #state: ChunkerState = 'open'
  #busy = false

  private constructor(pipeline: ChunkPipeline) {
    this.#pipeline = pipeline
  }

  static async create(opts: XetChunkerOptions = {}): Promise<XetChunker> {
    const workers = opts.workers ?? defaultWorkerCount()
    if (!Number.isInteger(workers) || workers < 0)
      throw new RangeError(`workers must be an integer >= 0: ${workers}`)
    await initXet()
    const pipeline = workers === 0 ? new InlineChunkPipeline() : await PooledChunkPipeline.start({ workers })
    return new XetChunker(pipeline)
  }

  /**
   * Where a reader may put the next data to push, up to this buffer's length, and then push a prefix of it:
   * the boundary scan then reads it where it lies (one copy of every byte less). Null with hash workers.
   * Its contents are not kept between pushes.
   */
  get input(): Uint8Array | null {
    return this.#pipeline.input ?? null
  }

  /** Chunks completed so far, in file order. The caller may reuse `data` once this resolves. */
  push(data: Uint8Array, signal?: AbortSignal): Promise<ChunkInfo[]> {
    return this.#call('push', () => this.#pipeline.push(data, signal))
  }

  /** All remaining chunks. Then reset() for a new file, or close(). */
  async finish(signal?: AbortSignal): Promise<ChunkInfo[]> {
    const chunks = await this.#call('finish', () => this.#pipeline.finish(signal))
    this.#state = 'finished'
    return chunks
  }

  /** Starts a new file, dropping any stream in progress. */
  reset(): void {
    if (this.#state === 'closed') throw new XetChunkerStateError('reset() after close()')
    if (this.#busy) throw new XetChunkerStateError('reset() while a push() or finish() is pending')
    this.#pipeline.reset()
    this.#state = 'open'
  }

  /** Terminates the workers; a pending call is rejected. Harmless twice. */
  async close(): Promise<void> {
    this.#state = 'closed'
    await this.#pipeline.close()
  }

  async #call(name: string, run: () => Promise<ChunkInfo[]>): Promise<ChunkInfo[]> {
    if (this.#state !== 'open') throw new XetChunkerStateError(`${name}() on a ${this.#state} chunker`)
    if (this.#busy) throw new XetChunkerStateError(`${name}() while another call is pending`)
    this.#busy = true
    try {
      return await run()
    } catch (err) {
      if (this.#state === 'open') this.#state = 'broken'
      throw err
    } finally {
      this.#busy = false
    }
  }
}
