import { readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { etagKind } from '../store/blob-etag.ts'
import {
  blobPath,
  isCommitHash,
  linkSnapshotFile,
  readRef,
  snapshotDir,
  snapshotPath,
  markNoExist,
  validateRepoFilePath,
  withBlobLock,
  writeRef,
  type RepoRef,
} from '../store/hf-cache/index.ts'
import type { ShardIndex } from '../store/index-db/shard-index.ts'
import { XetChunker } from '../store/xet/index.ts'
import { downloadBlob } from '../protocols/hub/download-blob.ts'
import { fetchSnapshot, type RemoteFile } from '../protocols/hub/fetch-snapshot.ts'
import type { HubConfig } from '../protocols/hub/hub-config.ts'
import { EntryNotFoundError, IntegrityError, OfflineError } from '../protocols/hub/hub-errors.ts'
import type { FetchLike } from '../protocols/hub/hub-request.ts'
import { filterPaths } from './file-filter.ts'

/** Files at or above this size go through the chunker's worker threads, one at a time. */
const LARGE_FILE = 8 * 1024 * 1024
const SMALL_FILE_LANES = 8

export interface PullProgress {
  bytesDone: number
  bytesTotal: number
  filesDone: number
  filesTotal: number
}

export interface PullFromHubParams {
  config: HubConfig
  cacheDir: string
  home: string
  index?: ShardIndex
  repo: RepoRef
  revision: string
  /** Only these files (exact paths); all when empty. */
  files?: readonly string[]
  include?: readonly string[]
  exclude?: readonly string[]
  fetch?: FetchLike
  signal?: AbortSignal
  onProgress?: (p: PullProgress) => void
  /** Parallel Range requests per blob, and their size (defaults in download-blob.ts). */
  connections?: number
  partSize?: number
}

export interface PullResult {
  commit: string
  files: { path: string; etag: string; size: number; downloaded: boolean }[]
  bytesFetched: number
}

/**
 * `model add` without the swarm: resolves the revision on the Hub, downloads every blob the cache lacks
 * (parallel Range requests, verified, resumable), links the snapshot, writes the ref, and records the
 * blobs and their manifests in the index.
 */
export async function pullFromHub(params: PullFromHubParams): Promise<PullResult> {
  const { config, cacheDir, repo, signal } = params
  if (config.offline) return pullOffline(params)
  const snapshot = await fetchSnapshot({
    config,
    repo,
    revision: params.revision,
    fetch: params.fetch,
    signal,
  })
  const byPath = new Map(snapshot.files.map((f) => [f.path, f]))
  for (const f of snapshot.files) validateRepoFilePath(f.path)
  let wanted: RemoteFile[]
  if (params.files !== undefined && params.files.length > 0) {
    wanted = []
    for (const path of params.files) {
      const f = byPath.get(validateRepoFilePath(path))
      if (f === undefined) {
        await markNoExist(cacheDir, repo, snapshot.commit, path)
        throw new EntryNotFoundError(`${repo.id}@${params.revision}: no file "${path}" in this revision`)
      }
      wanted.push(f)
    }
  } else {
    const keep = new Set(filterPaths([...byPath.keys()], params.include, params.exclude))
    wanted = snapshot.files.filter((f) => keep.has(f.path))
  }

  const progress: PullProgress = {
    bytesDone: 0,
    bytesTotal: wanted.reduce((n, f) => n + f.size, 0),
    filesDone: 0,
    filesTotal: wanted.length,
  }
  params.onProgress?.(progress)
  const result: PullResult = { commit: snapshot.commit, files: [], bytesFetched: 0 }

  const pullOne = async (file: RemoteFile, chunker: XetChunker): Promise<void> => {
    if (etagKind(file.etag) === null) throw new IntegrityError(`${file.path}: the Hub gave an invalid etag`)
    let downloaded = false
    await withBlobLock(
      cacheDir,
      repo,
      file.etag,
      async () => {
        if (await hasBlob(cacheDir, repo, file)) return
        const got = await downloadOnceMore(params, snapshot.commit, file, chunker, (n) => {
          progress.bytesDone += n
          params.onProgress?.(progress)
        })
        result.bytesFetched += got.bytesFetched
        downloaded = true
        params.index?.putVerifiedBlob(
          { etag: file.etag, kind: etagKind(file.etag) ?? 'sha256', size: file.size, xetHash: got.xetHash },
          got.chunks,
        )
        if (params.index !== undefined) {
          const path = blobPath(cacheDir, repo, file.etag)
          const st = await stat(path)
          params.index.putBlobFile({
            path,
            etag: file.etag,
            repoType: repo.type,
            repoId: repo.id,
            size: st.size,
            mtimeMs: st.mtimeMs,
            status: 'ok',
            error: null,
          })
        }
      },
      { signal },
    )
    await linkSnapshotFile(cacheDir, repo, snapshot.commit, file.path, file.etag)
    if (!downloaded) progress.bytesDone += file.size
    progress.filesDone++
    params.onProgress?.(progress)
    result.files.push({ path: file.path, etag: file.etag, size: file.size, downloaded })
  }

  const large = wanted.filter((f) => f.size >= LARGE_FILE)
  const small = wanted.filter((f) => f.size < LARGE_FILE)
  const bigChunker = large.length > 0 ? await XetChunker.create() : null
  const smallChunkers = await Promise.all(
    Array.from({ length: Math.min(SMALL_FILE_LANES, small.length) }, () => XetChunker.create({ workers: 0 })),
  )
  try {
    await Promise.all([
      (async () => {
        for (const f of large) await pullOne(f, bigChunker as XetChunker)
      })(),
      ...smallChunkers.map(async (chunker, lane) => {
        for (let i = lane; i < small.length; i += smallChunkers.length) await pullOne(small[i], chunker)
      }),
    ])
  } finally {
    await bigChunker?.close()
    await Promise.all(smallChunkers.map((c) => c.close()))
  }
  if (params.revision !== snapshot.commit) await writeRef(cacheDir, repo, params.revision, snapshot.commit)
  if (params.index !== undefined) {
    params.index.putSnapshot(repo.type, repo.id, snapshot.commit, snapshot.files)
    if (params.revision !== snapshot.commit)
      params.index.putRef(repo.type, repo.id, params.revision, snapshot.commit)
  }
  result.files.sort((a, b) => a.path.localeCompare(b.path))
  return result
}

/**
 * HF_HUB_OFFLINE: as huggingface_hub does, resolve the revision from `refs/` and succeed only when the
 * snapshot already holds what was asked for.
 */
async function pullOffline(params: PullFromHubParams): Promise<PullResult> {
  const { cacheDir, repo, revision } = params
  const commit = isCommitHash(revision) ? revision : await readRef(cacheDir, repo, revision)
  const what = `${repo.id}@${revision}`
  if (commit === null)
    throw new OfflineError(`${what}: HF_HUB_OFFLINE is set and this revision is not in the cache`)
  const wanted = (params.files ?? []).map(validateRepoFilePath)
  const files: PullResult['files'] = []
  const dir = snapshotDir(cacheDir, repo, commit)
  const present = await listSnapshotFiles(dir)
  if (present.length === 0)
    throw new OfflineError(`${what}: HF_HUB_OFFLINE is set and the snapshot is not in the cache`)
  const keep = wanted.length > 0 ? wanted : filterPaths(present, params.include, params.exclude)
  for (const path of keep) {
    const st = await stat(snapshotPath(cacheDir, repo, commit, path)).catch(() => null)
    if (st === null)
      throw new OfflineError(`${what}: HF_HUB_OFFLINE is set and "${path}" is not in the cache`)
    files.push({ path, etag: '', size: st.size, downloaded: false })
  }
  return { commit, files, bytesFetched: 0 }
}

async function listSnapshotFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true })
    return entries
      .filter((e) => !e.isDirectory())
      .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
      .sort()
  } catch {
    return []
  }
}

async function hasBlob(cacheDir: string, repo: RepoRef, file: RemoteFile): Promise<boolean> {
  try {
    return (await stat(blobPath(cacheDir, repo, file.etag))).size === file.size
  } catch {
    return false
  }
}

/** A blob that fails its hash is deleted; it is fetched once more before the error reaches the user. */
async function downloadOnceMore(
  params: PullFromHubParams,
  commit: string,
  file: RemoteFile,
  chunker: XetChunker,
  onBytes: (n: number) => void,
): ReturnType<typeof downloadBlob> {
  const args = {
    config: params.config,
    repo: params.repo,
    commit,
    file,
    cacheDir: params.cacheDir,
    home: params.home,
    chunker,
    connections: params.connections,
    partSize: params.partSize,
    fetch: params.fetch,
    signal: params.signal,
    onBytes,
  }
  try {
    return await downloadBlob(args)
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err
    return await downloadBlob(args)
  }
}
