import { open, stat, type FileHandle } from 'node:fs/promises'
import type { ChunkCache } from './chunk-cache/chunk-cache.ts'
import type { ChunkLocation, ShardIndex } from './index-db/shard-index.ts'
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
 * peer's batch usually does) are read with one call (scattered over the chunks' places in the one buffer
 * when bytes are reserved between them), and each blob file is opened and checked once. A chunk not found
 * in a blob file comes from the chunk cache, as in readChunk, in a buffer of its own.
 */
export async function readChunks(params: ReadChunksParams): Promise<(Uint8Array | null)[]> {
  const { index, hashes } = params
  const out: (Uint8Array | null)[] = hashes.map(() => null)
  const locs = index.getChunkLocations(hashes)
  // Where each located chunk goes in the one buffer.
  const at: number[] = hashes.map(() => -1)
  let total = 0
  for (let i = 0; i < hashes.length; i++) {
    const loc = locs[i]
    if (loc === null) continue
    total += params.reserve?.(loc.length) ?? 0
    at[i] = total
    total += loc.length
  }
  // Each chunk's bytes are filled by a read, or the chunk is dropped. With bytes reserved, a buffer of its
  // own (never a slice of Node's pool): the caller may write into the reserved bytes.
  const buf = params.reserve === undefined ? Buffer.allocUnsafe(total) : Buffer.allocUnsafeSlow(total)
  const files = new Map<string, BlobFileLease | null>()
  try {
    for (let i = 0; i < hashes.length;) {
      const loc = locs[i]
      if (loc === null) {
        i++
        continue
      }
      // The run: following chunks of the same blob at following offsets.
      let end = i + 1
      let bytes = loc.length
      for (; end < hashes.length; end++) {
        const next = locs[end]
        if (next === null || next.etag !== loc.etag || next.offset !== loc.offset + bytes) break
        if (bytes + next.length > MAX_RUN_BYTES) break
        bytes += next.length
      }
      let file = files.get(loc.etag)
      if (file === undefined) {
        file = await openVerified(index, loc.etag, params.files)
        files.set(loc.etag, file)
      }
      if (file !== null) {
        const lengthOf = (k: number): number => (locs[k] as ChunkLocation).length
        // Without reserved bytes (or for one chunk) the run's places touch: one plain read.
        const read =
          end - i === 1 || params.reserve === undefined
            ? file.fh.read(buf, at[i], bytes, loc.offset)
            : file.fh.readv(
                Array.from({ length: end - i }, (_, j) =>
                  buf.subarray(at[i + j], at[i + j] + lengthOf(i + j)),
                ),
                loc.offset,
              )
        const { bytesRead } = await read.catch(() => ({ bytesRead: -1 }))
        if (bytesRead === bytes) {
          for (let k = i; k < end; k++)
            out[k] = new Uint8Array(buf.buffer, buf.byteOffset + at[k], lengthOf(k))
        }
      }
      i = end
    }
  } finally {
    for (const file of files.values()) file?.release()
  }
  for (let i = 0; i < hashes.length; i++) {
    if (out[i] === null && params.cache !== undefined) out[i] = await params.cache.get(hashes[i])
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
