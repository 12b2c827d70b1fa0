import { open } from 'node:fs/promises'
import { createEtagHasher, etagKind } from '../blob-etag.ts'
import { fileHash, type ChunkInfo, type XetChunker } from '../xet/index.ts'
import type { ShardIndex } from './shard-index.ts'

/** Bytes read per step: big enough to keep the chunker's workers busy, small enough to bound memory. */
const READ_SIZE = 8 * 1024 * 1024

export interface IndexBlobFileParams {
  index: ShardIndex
  chunker: XetChunker
  path: string
  etag: string
  repoType: string
  repoId: string
  signal?: AbortSignal
  /** Called with the bytes hashed so far in this file. */
  onBytes?: (bytes: number) => void
}

export interface IndexBlobFileResult {
  status: 'ok' | 'corrupt'
  error: string | null
  size: number
  chunks: number
}

/**
 * Chunks and hashes one blob file, verifies it against its etag and records it. A blob that fails its etag
 * is recorded as corrupt (never served) and its chunks are not recorded.
 */
export async function indexBlobFile(params: IndexBlobFileParams): Promise<IndexBlobFileResult> {
  const { index, chunker, path, etag, signal } = params
  const kind = etagKind(etag)
  if (kind === null) throw new Error(`not a blob etag: ${etag}`)
  const fh = await open(path, 'r')
  try {
    const before = await fh.stat()
    const hasher = createEtagHasher(kind, before.size)
    const chunks: ChunkInfo[] = []
    const buf = new Uint8Array(Math.min(READ_SIZE, Math.max(before.size, 1)))
    let pos = 0
    chunker.reset()
    for (;;) {
      signal?.throwIfAborted()
      const { bytesRead } = await fh.read(buf, 0, buf.byteLength, pos)
      if (bytesRead === 0) break
      const data = buf.subarray(0, bytesRead)
      hasher.update(data)
      for (const c of await chunker.push(data, signal)) chunks.push(c)
      pos += bytesRead
      params.onBytes?.(pos)
    }
    for (const c of await chunker.finish(signal)) chunks.push(c)
    const after = await fh.stat()
    const fileRecord = {
      path,
      etag,
      repoType: params.repoType,
      repoId: params.repoId,
      size: after.size,
      mtimeMs: after.mtimeMs,
    }
    let error: string | null = null
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || pos !== after.size) {
      error = 'the file changed while it was being indexed'
    } else {
      const actual = hasher.digestHex()
      if (actual !== etag) error = `content hashes to ${actual}, not its etag`
    }
    if (error !== null) {
      index.putBlobFile({ ...fileRecord, status: 'corrupt', error })
      return { status: 'corrupt', error, size: after.size, chunks: 0 }
    }
    index.putVerifiedBlob({ etag, kind, size: pos, xetHash: fileHash(chunks) }, chunks)
    index.putBlobFile({ ...fileRecord, status: 'ok', error: null })
    return { status: 'ok', error: null, size: pos, chunks: chunks.length }
  } finally {
    await fh.close()
  }
}
