import { readdir, stat } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { etagKind } from '../blob-etag.ts'
import { parseRepoFolderName } from '../hf-cache/index.ts'
import { XetChunker } from '../xet/index.ts'
import { indexBlobFile } from './index-blob-file.ts'
import type { ShardIndex } from './shard-index.ts'

export interface IndexProgress {
  /** Blob files looked at so far, of `filesTotal`. */
  filesDone: number
  filesTotal: number
  /** Bytes chunked and hashed so far, of `bytesToHash` (only files that needed it). */
  bytesHashed: number
  bytesToHash: number
  currentPath: string | null
}

export interface IndexReport {
  filesSeen: number
  filesIndexed: number
  filesUnchanged: number
  filesForgotten: number
  bytesHashed: number
  corrupt: { path: string; error: string }[]
  warnings: string[]
}

export interface IndexHubCacheParams {
  cacheDir: string
  index: ShardIndex
  signal?: AbortSignal
  onProgress?: (p: IndexProgress) => void
  /** Reuse a chunker (its workers); one is created and closed otherwise. */
  chunker?: XetChunker
  /** Only these repo folders (e.g. `models--org--name`); all when absent. Files of others are not forgotten. */
  repoFolders?: readonly string[]
}

/** Files under this size are chunked and hashed on the calling thread. */
const INLINE_BELOW = 1024 * 1024

interface BlobCandidate {
  path: string
  etag: string
  repoType: string
  repoId: string
  size: number
  mtimeMs: number
}

/**
 * Brings the shard index in line with the blobs of an HF cache: new or changed blob files (by size and
 * mtime) are chunked, hashed and verified against their etag; unchanged ones cost one stat; files that
 * left the disk are forgotten.
 */
export async function indexHubCache(params: IndexHubCacheParams): Promise<IndexReport> {
  const { cacheDir, index, signal } = params
  const report: IndexReport = {
    filesSeen: 0,
    filesIndexed: 0,
    filesUnchanged: 0,
    filesForgotten: 0,
    bytesHashed: 0,
    corrupt: [],
    warnings: [],
  }
  const candidates = await listBlobFiles(cacheDir, report.warnings, params.repoFolders)
  report.filesSeen = candidates.length
  const todo = candidates.filter((c) => {
    const known = index.getBlobFile(c.path)
    const unchanged =
      known !== null &&
      known.etag === c.etag &&
      known.size === c.size &&
      known.mtimeMs === Math.trunc(c.mtimeMs)
    if (unchanged && known.status === 'corrupt')
      report.corrupt.push({ path: c.path, error: known.error ?? '' })
    return !unchanged
  })
  report.filesUnchanged = candidates.length - todo.length

  const onDisk = new Set(candidates.map((c) => c.path))
  // Only forget what this run looked at: the index may also know blobs of another cache dir.
  const inScope = (path: string): boolean =>
    params.repoFolders === undefined
      ? path.startsWith(join(cacheDir) + sep)
      : params.repoFolders.some((f) => path.startsWith(join(cacheDir, f) + sep))
  for (const path of index.allBlobFilePaths()) {
    if (!onDisk.has(path) && inScope(path)) {
      index.removeBlobFile(path)
      report.filesForgotten++
    }
  }

  const progress: IndexProgress = {
    filesDone: report.filesUnchanged,
    filesTotal: candidates.length,
    bytesHashed: 0,
    bytesToHash: todo.reduce((n, c) => n + c.size, 0),
    currentPath: null,
  }
  params.onProgress?.(progress)
  if (todo.length === 0) return report

  const chunker = params.chunker ?? (await XetChunker.create())
  // Small files cost more in worker round trips than in hashing: they are hashed on this thread.
  const inline = await XetChunker.create({ workers: 0 })
  try {
    for (const c of todo) {
      signal?.throwIfAborted()
      progress.currentPath = c.path
      const base = progress.bytesHashed
      let result
      try {
        result = await indexBlobFile({
          index,
          chunker: c.size < INLINE_BELOW ? inline : chunker,
          ...c,
          signal,
          onBytes: (n) => {
            progress.bytesHashed = base + n
            params.onProgress?.(progress)
          },
        })
      } catch (err) {
        if (signal?.aborted === true) throw err
        report.warnings.push(`${c.path}: ${(err as Error).message}`)
        continue
      }
      progress.bytesHashed = base + c.size
      progress.filesDone++
      report.filesIndexed++
      report.bytesHashed += result.size
      if (result.status === 'corrupt') report.corrupt.push({ path: c.path, error: result.error ?? '' })
      params.onProgress?.(progress)
    }
  } finally {
    await inline.close()
    if (params.chunker === undefined) await chunker.close()
  }
  return report
}

async function listBlobFiles(
  cacheDir: string,
  warnings: string[],
  only?: readonly string[],
): Promise<BlobCandidate[]> {
  const out: BlobCandidate[] = []
  for (const entry of await readdir(cacheDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || (only !== undefined && !only.includes(entry.name))) continue
    const repo = parseRepoFolderName(entry.name)
    if (repo === null) continue
    const blobsDir = join(cacheDir, entry.name, 'blobs')
    let names: string[]
    try {
      names = await readdir(blobsDir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') warnings.push(`${blobsDir}: cannot read (${code ?? (err as Error).message})`)
      continue
    }
    for (const name of names) {
      if (etagKind(name) === null) continue // .incomplete, temp files, strays
      const path = join(blobsDir, name)
      try {
        const st = await stat(path)
        if (!st.isFile()) {
          warnings.push(`${path}: not a regular file`)
          continue
        }
        out.push({
          path,
          etag: name,
          repoType: repo.type,
          repoId: repo.id,
          size: st.size,
          mtimeMs: st.mtimeMs,
        })
      } catch (err) {
        warnings.push(`${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
    }
  }
  return out
}
