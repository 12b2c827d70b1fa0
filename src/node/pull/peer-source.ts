import type { BlobManifest } from '../../protocols/sources.ts'

/** One chunk answered by a peer: its verified bytes, or "I don't have it". */
export type ChunkReply = { hash: Uint8Array; data: Uint8Array } | { hash: Uint8Array; missing: true }

/**
 * A peer as the download engine sees it. The wire clients implement it over libp2p; tests implement it in
 * memory. Chunks yielded must already be verified against their hash (the chunks client does that).
 */
export interface PeerSource {
  readonly id: string
  fetchManifest(etag: string, options: { signal?: AbortSignal }): Promise<BlobManifest | null>
  fetchChunks(hashes: Uint8Array[], options: { signal?: AbortSignal }): AsyncIterable<ChunkReply>
}

/** Raised when the peers (and the Hub, if allowed) could not supply every chunk of a blob. */
export class ChunksUnavailableError extends Error {
  override name = 'ChunksUnavailableError'
}

/** Raised when no peer has a manifest for a blob. */
export class NoManifestError extends Error {
  override name = 'NoManifestError'
}
