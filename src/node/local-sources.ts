import type { ChunkCache } from '../store/chunk-cache/chunk-cache.ts'
import { isCommitHash, type RepoRef } from '../store/hf-cache/index.ts'
import type { ShardIndex } from '../store/index-db/shard-index.ts'
import type { OpenBlobFiles } from '../store/open-blob-files.ts'
import { readChunk, readChunks } from '../store/read-chunk.ts'
import { hashToHex } from '../store/xet/index.ts'
import type {
  BlobManifest,
  ChunkReadOptions,
  ChunkSource,
  HaveMap,
  HaveSource,
  ManifestSource,
  RepoKind,
  SnapshotListing,
  SnapshotSource,
} from '../protocols/sources.ts'
import type { DownloadsInProgress } from './pull/downloads-in-progress.ts'
import { localSnapshot } from './pull/local-snapshot.ts'

export interface LocalSourcesParams {
  cacheDir: string
  index: ShardIndex
  chunkCache?: ChunkCache
  /** Blob files kept open between batches read by peers. */
  openFiles?: OpenBlobFiles
  /** Blobs being downloaded: their verified chunks are served too. */
  inProgress?: DownloadsInProgress
}

/**
 * What this node serves to peers, from its shard index, HF cache and chunk cache: snapshot listings,
 * manifests of verified blobs, have-maps and chunk bytes. Blobs that failed their etag are never served.
 */
export function createLocalSources(
  params: LocalSourcesParams,
): SnapshotSource & ManifestSource & HaveSource & Required<ChunkSource> {
  const { index, cacheDir } = params
  const manifestOf = (etag: string): BlobManifest | null => {
    if (index.verifiedFilesOf(etag).length === 0) return null
    const blob = index.getBlob(etag)
    const chunks = index.getManifest(etag)
    if (blob === null || blob.xetHash === null || chunks === null) return null
    return { etag, size: blob.size, xetHash: blob.xetHash, chunks }
  }
  return {
    async getSnapshot(repoType: RepoKind, repoId: string, revision: string): Promise<SnapshotListing | null> {
      const commit = isCommitHash(revision) ? revision : index.getRef(repoType, repoId, revision)
      if (commit !== null) {
        const files = index.getSnapshot(repoType, repoId, commit)
        if (files.length > 0) {
          return {
            commit,
            files: files.map((f) => {
              const xet = index.getBlob(f.etag)?.xetHash ?? null
              return { ...f, xetHash: xet === null ? null : hashToHex(xet) }
            }),
          }
        }
      }
      // A snapshot written by huggingface_hub long ago: its links say which blob is at which path.
      const repo: RepoRef = { type: repoType, id: repoId }
      const local = await localSnapshot(cacheDir, repo, revision).catch(() => null)
      if (local === null) return null
      return {
        commit: local.commit,
        files: local.files.map((f) => {
          const xet = index.getBlob(f.etag)?.xetHash ?? null
          return { path: f.path, etag: f.etag, size: f.size, xetHash: xet === null ? null : hashToHex(xet) }
        }),
      }
    },
    async getManifest(etag: string): Promise<BlobManifest | null> {
      return manifestOf(etag) ?? params.inProgress?.manifest(etag) ?? null
    },
    async getHaveMap(etag: string): Promise<HaveMap | null> {
      const m = manifestOf(etag)
      if (m === null) return params.inProgress?.haveMap(etag) ?? null
      const bits = new Uint8Array(Math.ceil(m.chunks.length / 8)).fill(0xff)
      if (m.chunks.length % 8 !== 0) bits[bits.length - 1] = (1 << (m.chunks.length % 8)) - 1
      return { chunkCount: m.chunks.length, bits }
    },
    subscribe(etag: string, onChunks: (indices: number[]) => void): () => void {
      // Complete blobs do not change; a download in progress announces each verified chunk.
      return params.inProgress?.subscribe(etag, onChunks) ?? (() => {})
    },
    async readChunk(hash: Uint8Array): Promise<Uint8Array | null> {
      return (
        (await readChunk({ index, cache: params.chunkCache, hash })) ??
        (await params.inProgress?.readChunk(hash)) ??
        null
      )
    },
    async readChunks(
      hashes: readonly Uint8Array[],
      options?: ChunkReadOptions,
    ): Promise<(Uint8Array | null)[]> {
      const out = await readChunks({
        index,
        cache: params.chunkCache,
        hashes,
        files: params.openFiles,
        reserve: options?.reserve,
      })
      // What no complete blob or cache has may be in a download under way (a node pulling along asks).
      const missing = out.flatMap((data, i) => (data === null ? [i] : []))
      if (missing.length === 0 || params.inProgress === undefined) return out
      const found = await params.inProgress.readChunks(
        missing.map((i) => hashes[i]),
        options,
      )
      missing.forEach((i, j) => (out[i] = found[j]))
      return out
    },
  }
}
