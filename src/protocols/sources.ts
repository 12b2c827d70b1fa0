import type { ChunkRef } from '../store/xet/index.ts'

/**
 * What the wire protocols serve from, implemented by the node over its shard index, HF cache and chunk cache.
 * The protocol services depend on these interfaces only, so their tests can serve from memory.
 */

export type RepoKind = 'model' | 'dataset' | 'space'

/** One file of a snapshot: which blob sits at which path of a commit. */
export interface SnapshotEntry {
  path: string
  etag: string
  size: number
  /** The Xet file hash in its string form, when known. */
  xetHash: string | null
}

export interface SnapshotListing {
  commit: string
  files: SnapshotEntry[]
}

/** A blob's manifest: its chunks in file order. */
export interface BlobManifest {
  etag: string
  size: number
  /** The Xet file hash (raw 32 bytes) of the chunk list. */
  xetHash: Uint8Array
  chunks: ChunkRef[]
}

export interface SnapshotSource {
  /** The listing of repo@revision (a branch, tag or commit), or null when this node does not know it. */
  getSnapshot(repoType: RepoKind, repoId: string, revision: string): Promise<SnapshotListing | null>
  /** Whether this repo may be served to that peer (gated/private repos only to trusted peers). */
  mayServe?(repoType: RepoKind, repoId: string, peerId: string): boolean
}

export interface ManifestSource {
  getManifest(etag: string): Promise<BlobManifest | null>
  /** Whether this blob's manifest may be served to that peer (not when only gated/private repos hold it). */
  mayServeManifest?(etag: string, peerId: string): boolean
}

/** Which chunks of a blob this node holds: bit i set = chunk i of the manifest is here and verified. */
export interface HaveMap {
  chunkCount: number
  bits: Uint8Array
}

export interface HaveSource {
  getHaveMap(etag: string): Promise<HaveMap | null>
  /** Calls `onChunks` with the indices of newly verified chunks of `etag` until the returned function is called. */
  subscribe(etag: string, onChunks: (indices: number[]) => void): () => void
}

export interface ChunkSource {
  /** The exact bytes of the chunk with this hash, or null when this node does not have it. */
  readChunk(hash: Uint8Array): Promise<Uint8Array | null>
  /** readChunk for a batch, in its order; a source that reads neighbours together offers this. */
  readChunks?(hashes: readonly Uint8Array[], options?: ChunkReadOptions): Promise<(Uint8Array | null)[]>
}

export interface ChunkReadOptions {
  /**
   * Bytes to leave free before each chunk, by its length: chunks read from blob files then lie in one
   * buffer, in the batch's order, each right after its free bytes (the server writes each answer's frame
   * header there and sends the lot without copying it). Chunks from elsewhere come in buffers of their own.
   */
  reserve?: (length: number) => number
}
