import { indexHubCache, type IndexProgress } from '../store/index-db/index-hub-cache.ts'
import type { ShardIndex } from '../store/index-db/shard-index.ts'
import {
  repoFolderName,
  scanHubCache,
  type CachedRepo,
  type CacheScan,
  type RepoRef,
} from '../store/hf-cache/index.ts'
import { hashToHex, initXet } from '../store/xet/index.ts'
import { RepoNotFoundError } from '../protocols/hub/hub-errors.ts'

export interface ListedFile {
  path: string
  size: number
  etag: string | null
  /** The Xet file hash, known once the blob was indexed; null for a blob that failed its etag. */
  xetHash: string | null
  /** Absolute path under `snapshots/`. */
  filePath: string
}

export interface ListModelsParams {
  cacheDir: string
  /** Only this repo; RepoNotFoundError when the cache does not have it. */
  repo?: RepoRef
  /** Index the listed repos first, so that every file carries its Xet hash. */
  index?: ShardIndex
  signal?: AbortSignal
  onIndexProgress?: (p: IndexProgress) => void
}

export interface ListModelsResult {
  scan: CacheScan
  repos: CachedRepo[]
  /** Xet hash per etag, for the listed repos, when an index was given. */
  xetHashes: Map<string, string | null>
  indexWarnings: string[]
}

/** What `model ls` shows: the cached repos (or one), optionally with every blob indexed. */
export async function listModels(params: ListModelsParams): Promise<ListModelsResult> {
  const scan = await scanHubCache(params.cacheDir)
  let repos = scan.repos
  if (params.repo !== undefined) {
    const want = params.repo
    repos = repos.filter((r) => r.type === want.type && r.id === want.id)
    if (repos.length === 0)
      throw new RepoNotFoundError(`${want.type} ${want.id} is not in the cache at ${params.cacheDir}`)
  }
  const xetHashes = new Map<string, string | null>()
  const indexWarnings: string[] = []
  if (params.index !== undefined) {
    await initXet()
    const report = await indexHubCache({
      cacheDir: params.cacheDir,
      index: params.index,
      repoFolders: repos.map((r) => repoFolderName(r)),
      signal: params.signal,
      onProgress: params.onIndexProgress,
    })
    indexWarnings.push(...report.warnings, ...report.corrupt.map((c) => `${c.path}: ${c.error}; not served`))
    for (const r of repos) {
      for (const rev of r.revisions) {
        for (const f of rev.files) {
          if (f.etag === null || xetHashes.has(f.etag)) continue
          const ok = params.index.verifiedFilesOf(f.etag).length > 0
          const blob = params.index.getBlob(f.etag)
          xetHashes.set(f.etag, ok && blob?.xetHash != null ? hashToHex(blob.xetHash) : null)
        }
      }
    }
  }
  return { scan, repos, xetHashes, indexWarnings }
}
