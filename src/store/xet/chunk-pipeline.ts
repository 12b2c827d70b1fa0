import type { ChunkInfo } from './types.ts'

/** How XetChunker turns a byte stream into hashed chunks: on the calling thread or on workers. */
export interface ChunkPipeline {
  /** A buffer that push() takes data from in place, when the pipeline has one (see XetChunker.input). */
  readonly input?: Uint8Array
  /** Chunks hashed so far, in file order; `data` is not used after this resolves. */
  push(data: Uint8Array, signal?: AbortSignal): Promise<ChunkInfo[]>
  /** Every remaining chunk; then the pipeline is ready for a new stream. */
  finish(signal?: AbortSignal): Promise<ChunkInfo[]>
  /** Drops the stream in progress. */
  reset(): void
  close(): Promise<void>
}
