import { Buffer } from 'node:buffer'
import { ChunkBoundaryScanner } from './boundary-scanner.ts'
import type { ChunkPipeline } from './chunk-pipeline.ts'
import { HASH_BYTES, MAX_CHUNK_SIZE } from './constants.ts'
import { copyBytes } from './copy-bytes.ts'
import { HashWorkerPool } from './hash-worker-pool.ts'
import type { ChunkInfo } from './types.ts'

export interface PooledPipelineInit {
  workers: number
  /** Size of each shared slab; default 4 MiB. */
  slabBytes?: number
  /** Number of slabs, >= 2; default 4. At most slabBytes * (slabs - 1) of input waits for hashing. */
  slabs?: number
  /** Chunks are sent to a worker in batches of about this many bytes; default 1 MiB. */
  batchBytes?: number
  workerUrl?: URL
}

const NO_HASH = new Uint8Array(0)

/**
 * Copies input into a ring of SharedArrayBuffer slabs, scans it on the calling thread and has
 * workers hash the chunks in place. The open chunk at the end of a full slab is copied to the
 * start of the next one, so every chunk is contiguous in one slab.
 */
export class PooledChunkPipeline implements ChunkPipeline {
  readonly #pool: HashWorkerPool
  readonly #slabs: Buffer[]
  readonly #batchBytes: number
  /** Jobs in flight per slab: a slab is rewritten only when it has none. */
  readonly #slabJobs: number[]
  readonly #scanner = new ChunkBoundaryScanner()
  readonly #waiters = new Set<() => void>()
  #slab = 0
  /** Stream offset of the first byte of the current slab. */
  #slabBase = 0
  #fill = 0
  #chunkStart = 0
  #spans: number[] = []
  #spanChunks: ChunkInfo[] = []
  #spanBytes = 0
  /** Chunks in file order, from #head on not yet returned; a chunk is done when its hash is set. */
  #chunks: ChunkInfo[] = []
  #head = 0
  #jobsInFlight = 0
  #failure: unknown

  private constructor(pool: HashWorkerPool, slabs: SharedArrayBuffer[], batchBytes: number) {
    this.#pool = pool
    this.#slabs = slabs.map((buffer) => Buffer.from(buffer))
    this.#slabJobs = slabs.map(() => 0)
    this.#batchBytes = batchBytes
  }

  static async start(init: PooledPipelineInit): Promise<PooledChunkPipeline> {
    const slabBytes = init.slabBytes ?? 4 << 20
    if (slabBytes < 2 * MAX_CHUNK_SIZE) throw new RangeError(`slabBytes must be >= ${2 * MAX_CHUNK_SIZE}`)
    const slabs = Array.from({ length: Math.max(2, init.slabs ?? 4) }, () => new SharedArrayBuffer(slabBytes))
    const pool = await HashWorkerPool.start({ workers: init.workers, slabs, workerUrl: init.workerUrl })
    return new PooledChunkPipeline(pool, slabs, init.batchBytes ?? 1 << 20)
  }

  async push(data: Uint8Array, signal?: AbortSignal): Promise<ChunkInfo[]> {
    const ends: number[] = []
    for (let at = 0; at < data.length;) {
      signal?.throwIfAborted()
      this.#throwIfFailed()
      if (this.#fill === this.#slabs[this.#slab].length) await this.#nextSlab(signal)
      const slab = this.#slabs[this.#slab]
      const take = Math.min(slab.length - this.#fill, data.length - at)
      const piece = data.subarray(at, at + take)
      copyBytes(slab, this.#fill, piece)
      ends.length = 0
      // Scan the caller's buffer, not the slab: reading shared memory in small pieces is slow.
      this.#scanner.scan(piece, ends)
      for (const end of ends) this.#addChunk(end)
      this.#fill += take
      at += take
    }
    // Small pushes would otherwise leave workers idle until a whole batch has gathered.
    if (this.#pool.hasIdleWorker) this.#dispatch()
    return this.#takeDone()
  }

  async finish(signal?: AbortSignal): Promise<ChunkInfo[]> {
    for (const end of this.#scanner.finish()) this.#addChunk(end)
    this.#dispatch()
    await this.#until(() => this.#jobsInFlight === 0, signal)
    const chunks = this.#takeDone()
    this.reset()
    return chunks
  }

  reset(): void {
    // Jobs still in flight only fill chunks that are dropped here, and release their slab.
    this.#scanner.reset()
    this.#slabBase = this.#fill = this.#chunkStart = 0
    this.#spans = []
    this.#spanChunks = []
    this.#spanBytes = 0
    this.#chunks = []
    this.#head = 0
    this.#failure = undefined
  }

  close(): Promise<void> {
    return this.#pool.close()
  }

  #addChunk(end: number): void {
    const chunk: ChunkInfo = { offset: this.#chunkStart, length: end - this.#chunkStart, hash: NO_HASH }
    this.#chunks.push(chunk)
    this.#spans.push(this.#chunkStart - this.#slabBase, chunk.length)
    this.#spanChunks.push(chunk)
    this.#spanBytes += chunk.length
    this.#chunkStart = end
    if (this.#spanBytes >= this.#batchBytes) this.#dispatch()
  }

  /** Sends the gathered chunks of the current slab to a worker. */
  #dispatch(): void {
    if (this.#spanChunks.length === 0) return
    const slab = this.#slab
    const chunks = this.#spanChunks
    const job = this.#pool.hash(slab, Uint32Array.from(this.#spans), this.#spanBytes)
    this.#spans = []
    this.#spanChunks = []
    this.#spanBytes = 0
    this.#slabJobs[slab]++
    this.#jobsInFlight++
    job
      .then(
        (hashes) => {
          for (let i = 0; i < chunks.length; i++)
            chunks[i].hash = hashes.slice(i * HASH_BYTES, (i + 1) * HASH_BYTES)
        },
        (err: unknown) => {
          this.#failure ??= err
        },
      )
      .finally(() => {
        this.#slabJobs[slab]--
        this.#jobsInFlight--
        for (const check of this.#waiters) check()
      })
  }

  /** Moves on to the next slab once its jobs are done, carrying over the open chunk. */
  async #nextSlab(signal?: AbortSignal): Promise<void> {
    this.#dispatch()
    const next = (this.#slab + 1) % this.#slabs.length
    await this.#until(() => this.#slabJobs[next] === 0, signal)
    const tail = this.#slabs[this.#slab].subarray(this.#chunkStart - this.#slabBase, this.#fill)
    copyBytes(this.#slabs[next], 0, tail)
    this.#slab = next
    this.#slabBase = this.#chunkStart
    this.#fill = tail.length
  }

  #takeDone(): ChunkInfo[] {
    let end = this.#head
    while (end < this.#chunks.length && this.#chunks[end].hash !== NO_HASH) end++
    const done = this.#chunks.slice(this.#head, end)
    this.#head = end
    if (this.#head > 4096 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
    return done
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure
  }

  /** Resolves once `ready()` holds; rejects on a worker failure or an abort. */
  #until(ready: () => boolean, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.#failure !== undefined) reject(this.#failure)
        else if (signal?.aborted === true) reject(signal.reason)
        else if (ready()) resolve()
        else return
        this.#waiters.delete(check)
        signal?.removeEventListener('abort', check)
      }
      this.#waiters.add(check)
      signal?.addEventListener('abort', check)
      check()
    })
  }
}
