import { mkdir, open, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { etagKind } from '../../store/blob-etag.ts'
import { commitBlob, incompleteBlobPath, type RepoRef } from '../../store/hf-cache/index.ts'
import type { Verifier } from '../../store/verify/blob-verifier.ts'
import { fileHash, hashToHex, initXet, type ChunkInfo } from '../../store/xet/index.ts'
import {
  contiguousPrefix,
  dropProgress,
  loadProgress,
  partRange,
  planParts,
  progressPath,
  saveProgress,
} from './download-progress.ts'
import { fetchRange } from './fetch-range.ts'
import type { RemoteFile } from './fetch-snapshot.ts'
import type { HubConfig } from './hub-config.ts'
import { HubHttpError, IntegrityError } from './hub-errors.ts'
import { hubRequest, type FetchLike } from './hub-request.ts'
import { resolvePath } from './hub-urls.ts'

/**
 * Defaults: 16 MiB ranges, 4 in flight, read back for chunking 8 MiB at a time. With 8 in flight, the mock
 * Hub on 127.0.0.1 gave 1 GiB at 333-352 MB/s and a peak RSS of 267-285 MB; with 4, 369-389 MB/s and
 * 223-230 MB (2: the same speed, 211-217 MB); over a 200 MB/s link with 20 ms a request, 4 are as fast as 8.
 */
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024
export const DEFAULT_CONNECTIONS = 4
/** The verifier is told of new bytes in steps of this size (fewer messages, bigger reads). */
const ADVANCE_STEP = 8 * 1024 * 1024
const SAVE_EVERY_MS = 100

export interface DownloadBlobParams {
  config: HubConfig
  repo: RepoRef
  commit: string
  file: RemoteFile
  cacheDir: string
  /** The node's home, where resumable progress is kept. */
  home: string
  /** Hashes and chunks the file as it arrives (a worker thread for big files). */
  verifier: Verifier
  connections?: number
  partSize?: number
  fetch?: FetchLike
  signal?: AbortSignal
  /** Bytes that arrived from the network (not counting what a resume found on disk). */
  onBytes?: (bytes: number) => void
  /** Every range is in; what is left (hashing the tail, the marker, rename) takes no network. */
  onFetched?: () => void
}

export interface DownloadedBlob {
  chunks: ChunkInfo[]
  xetHash: Uint8Array
  /** Bytes fetched over the network in this call. */
  bytesFetched: number
}

/**
 * Downloads one blob into `blobs/<etag>.incomplete` with parallel Range requests, chunks and hashes it in
 * order as the bytes arrive, checks the etag (and xetHash when known), then renames it into `blobs/<etag>`.
 * Progress is saved as it goes, so a killed process resumes where it stopped. A blob that fails its
 * hashes is deleted and reported; nothing unverified becomes visible.
 */
export async function downloadBlob(params: DownloadBlobParams): Promise<DownloadedBlob> {
  const { config, repo, file, cacheDir, verifier, signal } = params
  const kind = etagKind(file.etag)
  if (kind === null) throw new HubHttpError(`${file.path}: the Hub gave an invalid etag "${file.etag}"`, 502)
  const what = `${repo.id}/${file.path}`
  await initXet() // the file hash below runs on this thread even when a worker did the chunking
  const incomplete = incompleteBlobPath(cacheDir, repo, file.etag)
  const progressFile = progressPath(params.home, file.etag)
  let progress = await loadProgress(progressFile, file.etag, file.size)
  await mkdir(dirname(incomplete), { recursive: true })
  const fh = await open(incomplete, progress === null ? 'w+' : 'r+').catch(async () => {
    progress = null
    return open(incomplete, 'w+')
  })
  let bytesFetched = 0
  try {
    progress ??= planParts(file.etag, file.size, params.partSize ?? DEFAULT_PART_SIZE)
    const plan = progress
    await saveProgress(progressFile, plan)
    const url = file.size === 0 ? '' : await locate(params, what)

    let wake: () => void = () => {}
    let lastSave = Date.now()
    const saving = { chain: Promise.resolve() }
    const onWritten = (i: number, n: number): void => {
      plan.written[i] += n
      bytesFetched += n
      params.onBytes?.(n)
      wake()
      if (Date.now() - lastSave > SAVE_EVERY_MS) {
        lastSave = Date.now()
        // Best effort: a save that fails (a full disk) only costs a longer resume, and must not be left an
        // unhandled rejection until the next save or the end (that killed the process with ENOSPC).
        saving.chain = saving.chain.then(() => saveProgress(progressFile, plan)).catch(() => {})
      }
    }
    const abort = new AbortController()
    const fetchSignal = signal === undefined ? abort.signal : AbortSignal.any([signal, abort.signal])
    const todo = plan.written.map((_, i) => i).filter((i) => plan.written[i] < partSize(plan, i))
    let fetchError: unknown = null
    let fetchDone = false
    const fetching = runPool(todo, params.connections ?? DEFAULT_CONNECTIONS, async (i) => {
      const { start, end } = partRange(plan, i)
      await fetchRange({
        config,
        url,
        start,
        end,
        written: plan.written[i],
        file: fh,
        what,
        fetch: params.fetch,
        signal: fetchSignal,
        onWritten: (n) => onWritten(i, n),
      })
    }).then(
      () => {
        fetchDone = true
        params.onFetched?.()
        wake()
      },
      (err: unknown) => {
        fetchError = err
        wake()
      },
    )

    // The verifier hashes and chunks the contiguous prefix as it grows, in steps, off this thread.
    // With the Hub's xetHash, the Xet file hash (a BLAKE3 merkle root over every chunk) proves the content:
    // the sha256 pass would only repeat that proof.
    verifier.begin(incomplete, kind, file.size, { etag: file.xetHash === null })
    let sent = 0
    let verified
    try {
      while (sent < file.size) {
        const prefix = contiguousPrefix(plan)
        if (prefix - sent >= ADVANCE_STEP || (prefix === file.size && prefix > sent)) {
          verifier.advance(prefix)
          sent = prefix
          continue
        }
        if (fetchError !== null) throw fetchError
        if (fetchDone) throw new HubHttpError(`${what}: the ranges ended before the file did`, 502)
        await new Promise<void>((resolve) => {
          wake = resolve
          const p = contiguousPrefix(plan)
          if (p - sent >= ADVANCE_STEP || p === file.size || fetchError !== null || fetchDone) resolve()
        })
      }
      await fetching
      if (fetchError !== null) throw fetchError
      verified = await verifier.finish(signal)
    } catch (err) {
      abort.abort(err)
      await fetching
      throw err
    } finally {
      await saving.chain.catch(() => {})
    }
    const chunks = verified.chunks

    const xetHash = fileHash(chunks)
    const digest = file.xetHash === null ? verified.etag : file.etag
    if (digest !== file.etag || (file.xetHash !== null && hashToHex(xetHash) !== file.xetHash)) {
      await fh.close().catch(() => {})
      await rm(incomplete, { force: true })
      await dropProgress(progressFile)
      const which =
        digest !== file.etag ? `hashes to ${digest}, not its etag ${file.etag}` : 'fails its xetHash'
      throw new IntegrityError(`${what}: the downloaded file ${which}; deleted it`)
    }
    await fh.close()
    // Not flushed first: see unsynced-blobs.ts (flushing 500 MB here cost 0.4-0.9 s of a 4 s `model add`).
    await commitBlob(cacheDir, repo, file.etag, incomplete, { deferFlushIn: params.home })
    await dropProgress(progressFile)
    return { chunks, xetHash, bytesFetched }
  } finally {
    await fh.close().catch(() => {})
  }
}

function partSize(plan: { size: number; partSize: number }, i: number): number {
  const { start, end } = partRange(plan as Parameters<typeof partRange>[0], i)
  return end - start
}

/** The URL the bytes come from: the Hub's redirect target for LFS files (a CDN), the resolve URL otherwise. */
async function locate(params: DownloadBlobParams, what: string): Promise<string> {
  let url = `${params.config.endpoint}${resolvePath(params.repo, params.commit, params.file.path)}`
  for (let hop = 0; hop < 5; hop++) {
    const res = await hubRequest({
      config: params.config,
      url,
      method: 'HEAD',
      headers: { 'accept-encoding': 'identity' },
      redirect: 'manual',
      what,
      fetch: params.fetch,
      signal: params.signal,
    })
    const location = res.headers.get('location')
    if (res.status < 300 || res.status >= 400 || location === null) return url
    url = new URL(location, url).toString()
  }
  throw new HubHttpError(`${what}: too many redirects`, 502)
}

/** Runs `task` over `items` with at most `limit` at once; the first failure rejects (others finish). */
async function runPool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed: unknown = null
  const lane = async (): Promise<void> => {
    while (next < items.length && failed === null) {
      const item = items[next++]
      try {
        await task(item)
      } catch (err) {
        failed ??= err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  if (failed !== null) throw failed
}
