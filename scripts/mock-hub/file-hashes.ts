import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { HASH_CONCURRENCY } from './constants.ts'
import { gitObjectId, lfsPointerText } from './git-objects.ts'
import { Semaphore } from './semaphore.ts'
import { createXetFileHasher } from './xet-file-hash.ts'

/** What a commit needs to know about one file's content. */
export interface FileHashes {
  /** HF etag: sha256 hex for LFS files, git blob sha1 otherwise. */
  etag: string
  /** git object id in the tree: the blob sha1, or for LFS files the sha1 of the pointer. */
  gitOid: string
  lfs?: { sha256: string; pointerSize: number }
}

export interface FileIdentity {
  absPath: string
  size: number
  mtimeMs: number
  lfs: boolean
}

interface CacheEntry<T> extends FileIdentity {
  value: Promise<T>
}

/**
 * Hashes files once per (path, size, mtime), lazily, with concurrent callers sharing one
 * computation and at most `HASH_CONCURRENCY` files read at once. The etag hashes and the
 * (slower) Xet file hashes are separate passes, so that resolving a file never waits for
 * Xet chunking.
 */
export class FileHashCache {
  private readonly etags = new Map<string, CacheEntry<FileHashes>>()
  private readonly xetHashes = new Map<string, CacheEntry<string>>()
  private readonly bySha256 = new Map<string, FileIdentity>()
  private readonly semaphore = new Semaphore(HASH_CONCURRENCY)
  private readonly abort = new AbortController()

  hashes(file: FileIdentity): Promise<FileHashes> {
    return this.cached(this.etags, file, async () => {
      const h = await hashForEtag(file, this.abort.signal)
      if (h.lfs) this.bySha256.set(h.lfs.sha256, file)
      return h
    })
  }

  /** The Xet file hash of an LFS file. */
  xetHash(file: FileIdentity): Promise<string> {
    return this.cached(this.xetHashes, file, () => hashForXet(file, this.abort.signal))
  }

  /** A file last seen with this sha256. */
  fileForSha256(sha256: string): FileIdentity | undefined {
    return this.bySha256.get(sha256)
  }

  /** Stops hashing in progress; pending calls reject. */
  close(): void {
    this.abort.abort(new Error('mock hub closed'))
  }

  private cached<T>(
    map: Map<string, CacheEntry<T>>,
    file: FileIdentity,
    compute: () => Promise<T>,
  ): Promise<T> {
    const hit = map.get(file.absPath)
    if (hit && hit.size === file.size && hit.mtimeMs === file.mtimeMs && hit.lfs === file.lfs)
      return hit.value
    const entry: CacheEntry<T> = { ...file, value: this.semaphore.run(compute) }
    map.set(file.absPath, entry)
    entry.value.catch(() => {
      if (map.get(file.absPath) === entry) map.delete(file.absPath)
    })
    return entry.value
  }
}

async function hashForEtag(file: FileIdentity, signal: AbortSignal): Promise<FileHashes> {
  signal.throwIfAborted()
  const stream = createReadStream(file.absPath, { signal, highWaterMark: 1024 * 1024 })
  if (!file.lfs) {
    const sha1 = createHash('sha1').update(`blob ${file.size}\0`)
    for await (const data of stream) sha1.update(data as Buffer)
    const oid = sha1.digest('hex')
    return { etag: oid, gitOid: oid }
  }
  const sha256 = createHash('sha256')
  for await (const data of stream) sha256.update(data as Buffer)
  const sha = sha256.digest('hex')
  const pointer = Buffer.from(lfsPointerText(sha, file.size))
  return {
    etag: sha,
    gitOid: gitObjectId('blob', pointer),
    lfs: { sha256: sha, pointerSize: pointer.byteLength },
  }
}

async function hashForXet(file: FileIdentity, signal: AbortSignal): Promise<string> {
  signal.throwIfAborted()
  const stream = createReadStream(file.absPath, { signal, highWaterMark: 1024 * 1024 })
  const xet = await createXetFileHasher(file.size)
  try {
    for await (const data of stream) await xet.update(data as Buffer, signal)
    return await xet.digestHex(signal)
  } finally {
    await xet.close()
  }
}
