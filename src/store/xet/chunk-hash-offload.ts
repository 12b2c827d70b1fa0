import { MAX_CHUNK_SIZE } from './constants.ts'
import { HashWorkerPool } from './hash-worker-pool.ts'
import { chunkHash } from './keyed-hashers.ts'

/** Chunks hashed in one job at most: a slab holds this many chunks of the largest size. */
export const OFFLOAD_GROUP = 8
const SLAB_BYTES = OFFLOAD_GROUP * MAX_CHUNK_SIZE
/** Groups hashed at once; a caller waits for a free slab past that. */
const SLABS = 4

/**
 * Hashes chunks received from peers on a worker thread, off the event loop that also decrypts and parses
 * the stream: the chunks of a group are copied into a shared slab and hashed there. One worker per process,
 * started on first use; if it cannot start or fails, chunks are hashed on the calling thread instead.
 */
export class ChunkHashOffload {
  private static instance: Promise<ChunkHashOffload | null> | null = null
  private readonly pool: HashWorkerPool
  private readonly slabs: Buffer[]
  private readonly free: number[]
  private waiters: (() => void)[] = []
  private broken = false

  private constructor(pool: HashWorkerPool, slabs: SharedArrayBuffer[]) {
    this.pool = pool
    this.slabs = slabs.map((buffer) => Buffer.from(buffer))
    this.free = slabs.map((_, i) => i)
  }

  /** The process's offload, or null when no worker could start (hash inline then). */
  static shared(): Promise<ChunkHashOffload | null> {
    ChunkHashOffload.instance ??= (async () => {
      const slabs = Array.from({ length: SLABS }, () => new SharedArrayBuffer(SLAB_BYTES))
      try {
        return new ChunkHashOffload(await HashWorkerPool.start({ workers: 1, slabs }), slabs)
      } catch {
        return null
      }
    })()
    return ChunkHashOffload.instance
  }

  /** The Xet chunk hash of each chunk (at most OFFLOAD_GROUP of them), in order. */
  async hashMany(chunks: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (chunks.length > OFFLOAD_GROUP) throw new RangeError(`at most ${OFFLOAD_GROUP} chunks per call`)
    if (this.broken || chunks.some((c) => c.byteLength > MAX_CHUNK_SIZE)) return chunks.map(chunkHash)
    const slab = await this.takeSlab()
    try {
      const spans = new Uint32Array(chunks.length * 2)
      let at = 0
      chunks.forEach((c, i) => {
        this.slabs[slab].set(c, at)
        spans[2 * i] = at
        spans[2 * i + 1] = c.byteLength
        at += c.byteLength
      })
      const hashes = await this.pool.hash(slab, spans, at)
      return chunks.map((_, i) => hashes.subarray(32 * i, 32 * i + 32))
    } catch {
      // The worker failed: every later chunk is hashed here.
      this.broken = true
      return chunks.map(chunkHash)
    } finally {
      this.free.push(slab)
      this.waiters.shift()?.()
    }
  }

  private async takeSlab(): Promise<number> {
    for (;;) {
      const slab = this.free.pop()
      if (slab !== undefined) return slab
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }
}
