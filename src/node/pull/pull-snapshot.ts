import { stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { diskFullOr } from './disk-full.ts'
import type { ChunkCache } from '../../store/chunk-cache/chunk-cache.ts'
import { etagKind } from '../../store/blob-etag.ts'
import {
  blobPath,
  linkSnapshotFile,
  markNoExist,
  validateRepoFilePath,
  withBlobLock,
  writeRef,
  type RepoRef,
} from '../../store/hf-cache/index.ts'
import type { ShardIndex } from '../../store/index-db/shard-index.ts'
import { VerifierThread } from '../../store/verify/blob-verifier.ts'
import { InlineVerifier } from '../../store/verify/inline-verifier.ts'
import { fetchHubRange } from '../../protocols/hub/fetch-hub-range.ts'
import { loadRangeClient } from '../../protocols/hub/range-request.ts'
import type { RemoteFile } from '../../protocols/hub/fetch-snapshot.ts'
import type { HubConfig } from '../../protocols/hub/hub-config.ts'
import { EntryNotFoundError, IntegrityError, OfflineError } from '../../protocols/hub/hub-errors.ts'
import type { FetchLike } from '../../protocols/hub/hub-request.ts'
import type { SnapshotListing } from '../../protocols/sources.ts'
import { filterPaths } from '../file-filter.ts'
import type { PeerSource } from './peer-source.ts'
import { ChunksUnavailableError, NoManifestError } from './peer-source.ts'
import type { DownloadsInProgress } from './downloads-in-progress.ts'
import { initXet } from '../../store/xet/index.ts'
import { fetchWholeFromHub } from './fetch-whole-from-hub.ts'
import { pullBlobFromPeers } from './pull-blob-from-peers.ts'
import { pullLargeFiles, type FileJob } from './pull-large-files.ts'
import { resolveSnapshot, type SnapshotOrigin } from './resolve-snapshot.ts'

/** Files at or above this size are verified on a worker thread, one at a time. */
const LARGE_FILE = 8 * 1024 * 1024

const SMALL_FILE_LANES = 8
/** Longest the small files wait for a large one's first bytes (it may wait for another node, say). */
const SMALL_FILES_WAIT_MS = 500

export interface PullProgress {
  bytesDone: number
  bytesTotal: number
  filesDone: number
  filesTotal: number
}

/** A pull from peers that went away mid-blob is resumed this many times, after this wait (90 s in all). */
const PEER_RESUMES = 6
const PEER_RETRY_MS = 15_000

export interface PullSnapshotParams {
  config: HubConfig
  cacheDir: string
  home: string
  index?: ShardIndex
  chunkCache?: ChunkCache
  repo: RepoRef
  revision: string
  /** Only these files (exact paths); all when empty. */
  files?: readonly string[]
  include?: readonly string[]
  exclude?: readonly string[]
  /** The peers to pull chunks from (none: Hub only). Called per blob, so new connections count. */
  peers?: () => PeerSource[]
  /** This node's peer id (see pullBlobFromPeers). */
  self?: string
  /** Asks peers for a listing when the Hub cannot be asked. */
  peerSnapshot?: (repo: RepoRef, revision: string, signal?: AbortSignal) => Promise<SnapshotListing | null>
  fetch?: FetchLike
  signal?: AbortSignal
  onProgress?: (p: PullProgress) => void
  /** Downloads in progress, announced to and served to peers. */
  inProgress?: DownloadsInProgress
  /**
   * Asked before a blob no peer has a manifest for is fetched from the Hub: 'fetch' to go ahead, 'pull'
   * when a peer has it now (another node fetched it meanwhile). `hubDone` is called when that ends.
   */
  hubGate?: (file: RemoteFile, signal?: AbortSignal) => Promise<'fetch' | 'pull'>
  hubDone?: (etag: string) => void
  /** Waits before a chunk received from a peer is written (the download rate cap). */
  beforeChunk?: (bytes: number) => Promise<void>
  /** A peer was dropped from a pull (bad chunk, repeated failures). */
  onPeerDropped?: (peerId: string, err: unknown) => void
  /** Notable events for the log: a peer dropped, a fallback to the Hub. */
  onNotice?: (message: string) => void
  /** Pull each blob's chunks from its start (a reader is streaming it), not from a random place. */
  inOrder?: boolean
  /** Wait before pulling again from peers that went away mid-blob (see fetchBlobFrom); default 15 s. */
  peerRetryMs?: number
  /** Parallel Range requests per blob from the Hub, and their size (defaults in download-blob.ts). */
  connections?: number
  partSize?: number
}

export interface PulledFile {
  path: string
  etag: string
  size: number
  /** Where the bytes came from: already cached, peers (with the Hub for what they lacked), or the Hub. */
  source: 'cache' | 'peers' | 'hub'
  downloaded: boolean
}

export interface PullResult {
  commit: string
  origin: SnapshotOrigin
  files: PulledFile[]
  /** Bytes fetched over the network (peers and Hub). */
  bytesFetched: number
  bytesFromPeers: number
  bytesFromHub: number
  /** Chunk bytes received per peer id. */
  bytesByPeer: Record<string, number>
}

/**
 * `model add`: resolves the snapshot (Hub, else peers, else the cache), then for every blob the cache lacks
 * pulls its chunks from peers (the Hub filling in what they lack) or, when no peer has a manifest, the whole
 * file from the Hub; links the snapshot, writes the ref, records blobs and manifests in the index.
 */
export async function pullSnapshot(params: PullSnapshotParams): Promise<PullResult> {
  try {
    return await pullSnapshotOnce(params)
  } catch (err) {
    throw diskFullOr(err, params.cacheDir)
  }
}

async function pullSnapshotOnce(params: PullSnapshotParams): Promise<PullResult> {
  const { cacheDir, repo, signal } = params
  await initXet()
  if (!params.config.offline) void loadRangeClient().catch(() => {}) // loads while the revision resolves
  const snapshot = await resolveSnapshot({ ...params, revision: params.revision })
  for (const f of snapshot.files) validateRepoFilePath(f.path)
  const wanted = selectFiles(snapshot.files, params)
  for (const path of wanted.missing) {
    if (snapshot.origin === 'hub') await markNoExist(cacheDir, repo, snapshot.commit, path)
    const err = snapshot.origin === 'hub' ? EntryNotFoundError : OfflineError
    throw new err(`${repo.id}@${params.revision}: no file "${path}" in this revision`)
  }

  const progress: PullProgress = {
    bytesDone: 0,
    bytesTotal: wanted.files.reduce((n, f) => n + Math.max(f.size, 0), 0),
    filesDone: 0,
    filesTotal: wanted.files.length,
  }
  params.onProgress?.(progress)
  const result: PullResult = {
    commit: snapshot.commit,
    origin: snapshot.origin,
    files: [],
    bytesFetched: 0,
    bytesFromPeers: 0,
    bytesFromHub: 0,
    bytesByPeer: {},
  }
  // Small files wait until the first bytes of a large one are in (or SMALL_FILES_WAIT_MS): their manifests,
  // have-maps and index writes on the event loop otherwise held up the large file's first chunk.
  let flowing = (): void => {}
  const largeFlowing = new Promise<void>((resolve) => (flowing = resolve))
  const onBytes = (n: number): void => {
    if (n > 0) flowing()
    progress.bytesDone += n
    params.onProgress?.(progress)
  }

  const pullOne = async (file: RemoteFile, job: FileJob): Promise<void> => {
    if (etagKind(file.etag) === null) throw new IntegrityError(`${file.path}: invalid etag "${file.etag}"`)
    let source: PulledFile['source'] = 'cache'
    await withBlobLock(
      cacheDir,
      repo,
      file.etag,
      async () => {
        if (await hasBlob(cacheDir, repo, file)) return
        if (snapshot.origin === 'cache') {
          throw new OfflineError(
            `${repo.id}: the blob of "${file.path}" is missing and no source can be reached`,
          )
        }
        source = await fetchBlob(params, snapshot.commit, snapshot.origin, file, job, onBytes, result)
      },
      { signal },
    )
    await linkSnapshotFile(cacheDir, repo, snapshot.commit, file.path, file.etag)
    if (source === 'cache') progress.bytesDone += Math.max(file.size, 0)
    progress.filesDone++
    params.onProgress?.(progress)
    result.files.push({
      path: file.path,
      etag: file.etag,
      size: file.size,
      source,
      downloaded: source !== 'cache',
    })
  }

  const large = wanted.files.filter((f) => f.size >= LARGE_FILE)
  const small = wanted.files.filter((f) => f.size < LARGE_FILE)
  const verifierThread = new VerifierThread()
  const bigVerifiers = large.slice(0, 2).map(() => verifierThread.verifier())
  const smallVerifiers: InlineVerifier[] = []
  try {
    const largeDone = pullLargeFiles(large, bigVerifiers, pullOne).finally(flowing)
    const smallDone = (async (): Promise<void> => {
      await Promise.race([largeFlowing, sleep(SMALL_FILES_WAIT_MS, undefined, { ref: false })])
      const lanes = Math.min(SMALL_FILE_LANES, small.length)
      for (let k = 0; k < lanes; k++) smallVerifiers.push(await InlineVerifier.start())
      await Promise.all(
        smallVerifiers.map(async (verifier, lane) => {
          for (let i = lane; i < small.length; i += lanes) await pullOne(small[i], { verifier })
        }),
      )
    })()
    await Promise.all([largeDone, smallDone])
  } finally {
    await verifierThread.close()
    await Promise.all(smallVerifiers.map((c) => c.close()))
  }
  if (params.revision !== snapshot.commit) await writeRef(cacheDir, repo, params.revision, snapshot.commit)
  if (params.index !== undefined && snapshot.origin !== 'cache') {
    params.index.putSnapshot(repo.type, repo.id, snapshot.commit, snapshot.files)
    if (params.revision !== snapshot.commit)
      params.index.putRef(repo.type, repo.id, params.revision, snapshot.commit)
  }
  result.files.sort((a, b) => a.path.localeCompare(b.path))
  return result
}

function selectFiles(
  all: RemoteFile[],
  params: PullSnapshotParams,
): { files: RemoteFile[]; missing: string[] } {
  const byPath = new Map(all.map((f) => [f.path, f]))
  if (params.files !== undefined && params.files.length > 0) {
    const files: RemoteFile[] = []
    const missing: string[] = []
    for (const path of params.files.map(validateRepoFilePath)) {
      const f = byPath.get(path)
      if (f === undefined) missing.push(path)
      else files.push(f)
    }
    return { files, missing }
  }
  const keep = new Set(filterPaths([...byPath.keys()], params.include, params.exclude))
  return { files: all.filter((f) => keep.has(f.path)), missing: [] }
}

/** Peers first when any has a manifest for the blob; the Hub fills in, or serves the whole file. */
async function fetchBlob(...args: Parameters<typeof fetchBlobFrom>): ReturnType<typeof fetchBlobFrom> {
  try {
    return await fetchBlobFrom(...args)
  } finally {
    args[0].hubDone?.(args[3].etag)
  }
}

async function fetchBlobFrom(
  params: PullSnapshotParams,
  commit: string,
  origin: SnapshotOrigin,
  file: RemoteFile,
  job: FileJob,
  onBytes: (n: number) => void,
  result: PullResult,
): Promise<PulledFile['source']> {
  const hubUsable = origin === 'hub'
  // Peers first; when none has a manifest, the hub gate may make this node wait for another that is
  // fetching the blob from the Hub, after which its chunks come from that node.
  let moved = 0
  let resumes = 0
  for (let attempt = 0; attempt < 3; attempt++) {
    const peers = params.peers?.() ?? []
    if (peers.length === 0) break
    try {
      const got = await pullBlobFromPeers({
        cacheDir: params.cacheDir,
        repo: params.repo,
        etag: file.etag,
        size: file.size,
        xetHash: file.xetHash,
        peers,
        self: params.self,
        home: params.home,
        index: params.index,
        chunkCache: params.chunkCache,
        hubRange: hubUsable
          ? (start, end, signal) =>
              fetchHubRange({
                config: params.config,
                repo: params.repo,
                commit,
                path: file.path,
                start,
                end,
                signal,
              })
          : undefined,
        signal: params.signal,
        onBytes: (n) => {
          moved += n
          onBytes(n)
        },
        inProgress: params.inProgress,
        beforeChunk: params.beforeChunk,
        inOrder: params.inOrder,
        onAllAsked: job.onFetched,
        onNearlyAllAsked: job.onNearlyFetched,
        mayFetch: job.mayFetch,
        onPeerDropped: (peer, err) => {
          params.onPeerDropped?.(peer, err)
          params.onNotice?.(`${file.path}: dropped peer ${peer}: ${(err as Error).message}`)
        },
      })
      if (got.bytesFromHub > 0) {
        params.onNotice?.(`${file.path}: ${got.bytesFromHub} bytes of chunks no peer had came from the Hub`)
      }
      const fromPeers = Object.values(got.bytesByPeer).reduce((a, b) => a + b, 0)
      for (const [peer, n] of Object.entries(got.bytesByPeer)) {
        result.bytesByPeer[peer] = (result.bytesByPeer[peer] ?? 0) + n
      }
      result.bytesFromPeers += fromPeers
      result.bytesFromHub += got.bytesFromHub
      result.bytesFetched += fromPeers + got.bytesFromHub
      onBytes(got.bytesLocal + got.bytesResumed)
      return 'peers'
    } catch (err) {
      // The peers that had the chunks went away mid-blob (a relay restarting, a partition): what came in
      // is kept; wait for them to come back and go on, a few times.
      if (err instanceof ChunksUnavailableError && moved > 0 && resumes < PEER_RESUMES) {
        resumes++
        attempt--
        params.onNotice?.(`${file.path}: ${err.message}; trying again shortly`)
        await sleep(params.peerRetryMs ?? PEER_RETRY_MS, undefined, { signal: params.signal })
        continue
      }
      if (!(err instanceof NoManifestError) || !hubUsable) throw err
      if (params.hubGate === undefined) {
        params.onNotice?.(`${file.path}: ${err.message}; downloading it from the Hub`)
        break
      }
      if ((await params.hubGate(file, params.signal)) === 'fetch') {
        params.onNotice?.(`${file.path}: no peer has it; this node fetches it from the Hub for the swarm`)
        break
      }
    }
  }
  if (!hubUsable)
    throw new OfflineError(`${params.repo.id}: no peer has "${file.path}" and the Hub cannot be reached`)
  return fetchWholeFromHub(params, commit, file, job, onBytes, result)
}

async function hasBlob(cacheDir: string, repo: RepoRef, file: RemoteFile): Promise<boolean> {
  try {
    const size = (await stat(blobPath(cacheDir, repo, file.etag))).size
    return file.size < 0 || size === file.size
  } catch {
    return false
  }
}
