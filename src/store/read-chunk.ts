import { readvSync } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'
import { SyncReads } from './sync-reads.ts'
import type { ChunkCache } from './chunk-cache/chunk-cache.ts'
import type { ShardIndex } from './index-db/shard-index.ts'
import type { BlobFileLease, OpenBlobFiles } from './open-blob-files.ts'

export interface ReadChunkParams {
  index: ShardIndex
  cache?: ChunkCache
  hash: Uint8Array
}

/**
 * A chunk's bytes, read straight from a complete blob file at its recorded offset (no second copy of
 * complete blobs), else from the chunk cache; null when this node does not have it. A blob file whose size
 * or mtime changed since it was verified is not trusted.
 */
export async function readChunk(params: ReadChunkParams): Promise<Uint8Array | null> {
  const { index, hash } = params
  const loc = index.getChunkLocation(hash)
  if (loc !== null) {
    for (const file of index.verifiedFilesOf(loc.etag)) {
      const bytes = await readRange(file.path, file.size, file.mtimeMs, loc.offset, loc.length)
      if (bytes !== null) return bytes
    }
  }
  return (await params.cache?.get(hash)) ?? null
}

async function readRange(
  path: string,
  size: number,
  mtimeMs: number,
  offset: number,
  length: number,
): Promise<Uint8Array | null> {
  let fh
  try {
    const st = await stat(path)
    if (st.size !== size || Math.trunc(st.mtimeMs) !== mtimeMs) return null
    fh = await open(path, 'r')
    const buf = new Uint8Array(length)
    const { bytesRead } = await fh.read(buf, 0, length, offset)
    return bytesRead === length ? buf : null
  } catch {
    return null
  } finally {
    await fh?.close()
  }
}

export interface ReadChunksParams {
  index: ShardIndex
  cache?: ChunkCache
  hashes: readonly Uint8Array[]
  /** Blob files kept open between calls; without it each call opens and closes its own. */
  files?: OpenBlobFiles
  /**
   * Bytes to leave free before each chunk read from a blob file (a frame header, say), by the chunk's
   * length. The chunks of one call that come from blob files always lie in one buffer, in the batch's
   * order, each right after its free bytes: a caller that fills those in sends them without a copy.
   */
  reserve?: (length: number) => number
}

/** Bytes read with one call at most, when neighbouring chunks are read together. */
const MAX_RUN_BYTES = 8 * 1024 * 1024

/**
 * readChunk for a batch, in the batch's order: chunks that lie next to each other in one blob (as a
 * peer's batch usually does) are read with one call (see readChunkRuns), and each blob file is opened and
 * checked once. A chunk not found in a blob file comes from the chunk cache, as in readChunk, in a buffer
 * of its own.
 */
export async function readChunks(params: ReadChunksParams): Promise<(Uint8Array | null)[]> {
  const { index, hashes } = params
  const locs = index.getChunkLocations(hashes)
  const places = locs.map((loc) =>
    loc === null ? null : { file: loc.etag, offset: loc.offset, length: loc.length },
  )
  const files = new Map<string, BlobFileLease | null>()
  let out: (Uint8Array | null)[]
  try {
    out = await readChunkRuns(
      places,
      async (etag) => {
        if (!files.has(etag)) files.set(etag, await openVerified(index, etag, params.files))
        return files.get(etag)?.fh ?? null
      },
      params.reserve,
    )
  } finally {
    for (const file of files.values()) file?.release()
  }
  for (let i = 0; i < hashes.length; i++) {
    if (out[i] === null && params.cache !== undefined) out[i] = await params.cache.get(hashes[i])
  }
  return out
}

/** Where a chunk lies: in which file (any value that tells the files apart), at which offset, how long. */
export interface ChunkPlace<F> {
  file: F
  offset: number
  length: number
}

/**
 * The chunks at `places` (null: not found), in order, all in one buffer. Chunks that follow one another in
 * one file are read with one call (up to MAX_RUN_BYTES), scattered over their places in the buffer when
 * `reserve` leaves free bytes before each (by the chunk's length): a caller that fills those in sends the
 * chunks without a copy. With `reserve`, the buffer is one of its own (never a slice of Node's pool), since
 * the caller may write into it. A chunk whose file does not open (`fileOf` gives null) or whose read
 * comes up short is null.
 */
export async function readChunkRuns<F>(
  places: readonly (ChunkPlace<F> | null)[],
  fileOf: (file: F) => Promise<FileHandle | null>,
  reserve?: (length: number) => number,
): Promise<(Uint8Array | null)[]> {
  const out: (Uint8Array | null)[] = places.map(() => null)
  // Where each chunk goes in the one buffer.
  const at: number[] = places.map(() => -1)
  let total = 0
  for (let i = 0; i < places.length; i++) {
    const place = places[i]
    if (place === null) continue
    total += reserve?.(place.length) ?? 0
    at[i] = total
    total += place.length
  }
  if (total === 0) return out
  const buf = reserve === undefined ? Buffer.allocUnsafe(total) : Buffer.allocUnsafeSlow(total)
  const lengthOf = (k: number): number => (places[k] as ChunkPlace<F>).length
  for (let i = 0; i < places.length;) {
    const place = places[i]
    if (place === null) {
      i++
      continue
    }
    // The run: following chunks of the same file at following offsets.
    let end = i + 1
    let bytes = place.length
    for (; end < places.length; end++) {
      const next = places[end]
      if (next === null || next.file !== place.file || next.offset !== place.offset + bytes) break
      if (bytes + next.length > MAX_RUN_BYTES) break
      bytes += next.length
    }
    const fh = await fileOf(place.file)
    if (fh !== null) {
      // Without reserved bytes (or for one chunk) the run's places touch: one plain read.
      const targets =
        end - i === 1 || reserve === undefined
          ? [buf.subarray(at[i], at[i] + bytes)]
          : Array.from({ length: end - i }, (_, j) => buf.subarray(at[i + j], at[i + j] + lengthOf(i + j)))
      if ((await readAt(fh, targets, place.offset)) === bytes) {
        for (let k = i; k < end; k++) out[k] = new Uint8Array(buf.buffer, buf.byteOffset + at[k], lengthOf(k))
      }
    }
    i = end
  }
  return out
}

/** The first verified file of a blob that still has the size and mtime it was verified with, open. */
async function openVerified(
  index: ShardIndex,
  etag: string,
  files: OpenBlobFiles | undefined,
): Promise<BlobFileLease | null> {
  for (const file of index.verifiedFilesOf(etag)) {
    if (files !== undefined) {
      const lease = await files.acquire(file.path, file.size, file.mtimeMs)
      if (lease !== null) return lease
      continue
    }
    let fh: FileHandle | undefined
    try {
      fh = await open(file.path, 'r')
      const st = await fh.stat()
      if (st.size === file.size && Math.trunc(st.mtimeMs) === file.mtimeMs) {
        const opened = fh
        return { fh: opened, release: () => void opened.close().catch(() => {}) }
      }
    } catch {
      // gone or unreadable: try the next file of this blob
    }
    await fh?.close().catch(() => {})
  }
  return null
}

/** How reads are made, for every blob file of the process: they share the disk and the event loop. */
const syncReads = new SyncReads()

/**
 * Reads into `targets`, one after another, from `position`: the bytes read, or -1 on an error. While reads
 * come from the page cache (a seeder's usual case) they are made here, synchronously, else in the thread
 * pool: see SyncReads. A seeder serving 1 GiB with all its reads synchronous, 5 alternated pairs: median
 * 3.02 against 3.31 CPU-s, the pull 6.12 against 6.43 s.
 */
async function readAt(fh: FileHandle, targets: Uint8Array[], position: number): Promise<number> {
  const started = performance.now()
  if (syncReads.allowed(started)) {
    try {
      const n = readvSync(fh.fd, targets, position)
      const ended = performance.now()
      syncReads.record(ended - started, ended)
      return n
    } catch {
      return -1
    }
  }
  try {
    return (await fh.readv(targets, position)).bytesRead
  } catch {
    return -1
  }
}
