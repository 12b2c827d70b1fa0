import { createHash, type Hash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import type { BlobKind } from './index-db/shard-index.ts'

/**
 * The HF etag of a blob: sha256 hex of the content for LFS/Xet files, the git blob sha1
 * (`sha1("blob <size>\0" + bytes)`) for regular files. The etag's length tells which.
 */
export function etagKind(etag: string): BlobKind | null {
  if (/^[0-9a-f]{64}$/.test(etag)) return 'sha256'
  if (/^[0-9a-f]{40}$/.test(etag)) return 'gitsha1'
  return null
}

export interface EtagHasher {
  update(data: Uint8Array): void
  digestHex(): string
}

/** Hashes a blob of known size the way its etag was computed. */
export function createEtagHasher(kind: BlobKind, size: number): EtagHasher {
  let hash: Hash
  if (kind === 'sha256') hash = createHash('sha256')
  else {
    hash = createHash('sha1')
    hash.update(`blob ${size}\0`)
  }
  return {
    update: (data) => void hash.update(data),
    digestHex: () => hash.digest('hex'),
  }
}

/** The git blob sha1 of a whole buffer (the etag of a regular, non-LFS file). */
export function gitBlobSha1(data: Uint8Array): string {
  const h = createEtagHasher('gitsha1', data.byteLength)
  h.update(data)
  return h.digestHex()
}

/** The etag-style hash (hex) of the first `size` bytes of an open file, read in blocks of up to 8 MiB. */
export async function hashFileAsEtag(fh: FileHandle, kind: BlobKind, size: number): Promise<string> {
  const hasher = createEtagHasher(kind, size)
  const buf = new Uint8Array(Math.min(8 * 1024 * 1024, Math.max(size, 1)))
  for (let pos = 0; pos < size;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.byteLength, size - pos), pos)
    if (bytesRead === 0) break
    hasher.update(buf.subarray(0, bytesRead))
    pos += bytesRead
  }
  return hasher.digestHex()
}
