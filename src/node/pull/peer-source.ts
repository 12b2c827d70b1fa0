import type { BlobManifest } from '../../protocols/sources.ts'
import type { ByteParts } from '../../store/byte-parts.ts'

/** One chunk answered by a peer: its bytes (maybe in pieces), or "I don't have it". */
export type ChunkReply = { hash: Uint8Array; data: ByteParts } | { hash: Uint8Array; missing: true }

/**
 * A peer as the download engine sees it. The wire clients implement it over libp2p; tests implement it in
 * memory. Chunks yielded must already be verified against their hash (the chunks client does that), unless
 * asked with `verify: false`: the caller then checks them itself (pullBlobFromPeers, when it writes them).
 */
export interface PeerSource {
  readonly id: string
  fetchManifest(etag: string, options: { signal?: AbortSignal }): Promise<BlobManifest | null>
  fetchChunks(hashes: Uint8Array[], options: ChunkFetchOptions): AsyncIterable<ChunkReply>
  /**
   * The peer's have-map for a blob and its updates; 'none' when it holds no chunk of the blob yet (it may
   * begin it later); null when it cannot tell (no have protocol, or the request failed).
   */
  subscribeHave?(etag: string, options: { signal?: AbortSignal }): Promise<PeerHaves | 'none' | null>
}

export interface ChunkFetchOptions {
  signal?: AbortSignal
  /** False: yield the bytes unchecked (default true). */
  verify?: boolean
}

/** Which chunks (by index in the manifest) a peer holds, kept up to date while subscribed. */
export interface PeerHaves {
  has(index: number): boolean
  /** Yields the indices the peer gets from now on. */
  updates: AsyncIterable<number[]>
  close(): void
}

/** Raised when the peers (and the Hub, if allowed) could not supply every chunk of a blob. */
export class ChunksUnavailableError extends Error {
  override name = 'ChunksUnavailableError'
}

/** Raised when no peer has a manifest for a blob. */
export class NoManifestError extends Error {
  override name = 'NoManifestError'
}
