import { open, stat } from 'node:fs/promises'
import type { ChunkCache } from './chunk-cache/chunk-cache.ts'
import type { ShardIndex } from './index-db/shard-index.ts'

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
