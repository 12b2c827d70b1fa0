/**
 * /hffs/chunks/1.0.0: a batch of chunk hashes in, the chunks out in request order, streamed with
 * backpressure. Served from a ChunkSource. The client hashes every chunk on arrival and never returns
 * one that does not match: it throws BadChunkError naming the peer instead.
 */
import { DefaultChunksProtocol } from './chunks-protocol.ts'
import type { ChunkSource } from '../sources.ts'
import type { ProtocolComponents, StreamLimitsInit } from '../wire/components.ts'
import type { AbortOptions, DialTarget, Startable } from '@libp2p/interface'

export { CHUNKS_PROTOCOL, MAX_BATCH_SIZE } from './constants.ts'
export { BadChunkError } from './errors.ts'

export interface ChunksProtocolInit extends StreamLimitsInit {
  /** Where served chunks are read from. */
  chunks: ChunkSource
  /** Most hashes in one batch, asked or served. Default: 64. */
  maxBatchSize?: number
  /** Chunks the server reads ahead and sends in one go. Default: 4. */
  sendGroup?: number
}

/**
 * One answer of a batch: the verified bytes (in the pieces they arrived in: views of the transport's
 * buffers), or the peer's word that it lacks the chunk.
 */
export type FetchedChunk = { hash: Uint8Array; data: Uint8Array[] } | { hash: Uint8Array; missing: true }

export interface FetchChunksOptions extends AbortOptions {
  /**
   * False: yield each chunk unchecked, for a caller that checks it itself (off the event loop, as the pull's
   * writer does). Default true.
   */
  verify?: boolean
}

export interface ChunksProtocol extends Startable {
  readonly protocol: string
  /**
   * Asks a peer for up to `maxBatchSize` chunks and yields them in request order as they arrive, each
   * verified against its hash (unless `verify` is false). Throws BadChunkError on a chunk that does not
   * match (after yielding the good ones before it). `signal` cancels mid-batch; leaving the loop early
   * resets the stream.
   */
  fetchChunks(
    peer: DialTarget,
    hashes: readonly Uint8Array[],
    options?: FetchChunksOptions,
  ): AsyncGenerator<FetchedChunk, void, undefined>
}

export function chunksProtocol(init: ChunksProtocolInit): (components: ProtocolComponents) => ChunksProtocol {
  return (components) => new DefaultChunksProtocol(components, init)
}
