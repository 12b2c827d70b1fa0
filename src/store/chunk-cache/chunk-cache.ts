import { randomBytes, randomInt } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chunkHash, hashToHex } from '../xet/index.ts'
import { DEFAULT_CHUNK_CACHE_BYTES } from './constants.ts'

export interface ChunkCacheOptions {
  dir: string
  /** Upper bound on the bytes of chunk files kept; default DEFAULT_CHUNK_CACHE_BYTES; 0 disables the cache. */
  limitBytes?: number
}

/**
 * Content-addressed files for chunks that live in no complete blob (a removed revision, an unfinished
 * download). Writes go through a temp file and a rename; reads re-hash the bytes, so a file torn by a crash
 * or edited on disk is dropped, never served. When full, random items are evicted, as in hf_xet.
 */
export class ChunkCache {
  readonly dir: string
  readonly limitBytes: number
  private readonly sizes = new Map<string, number>()
  private readonly keys: string[] = []
  private readonly slot = new Map<string, number>()
  private total = 0

  private constructor(dir: string, limitBytes: number) {
    this.dir = dir
    this.limitBytes = limitBytes
  }

  static async open(options: ChunkCacheOptions): Promise<ChunkCache> {
    const cache = new ChunkCache(options.dir, options.limitBytes ?? DEFAULT_CHUNK_CACHE_BYTES)
    await mkdir(cache.dir, { recursive: true })
    for (const sub of await readdir(cache.dir, { withFileTypes: true })) {
      if (!sub.isDirectory() || !/^[0-9a-f]{2}$/.test(sub.name)) continue
      const subDir = join(cache.dir, sub.name)
      for (const name of await readdir(subDir)) {
        const path = join(subDir, name)
        if (!/^[0-9a-f]{64}$/.test(name)) {
          await rm(path, { force: true }) // a temp file left by a crash
          continue
        }
        cache.track(name, (await stat(path)).size)
      }
    }
    await cache.evictUntilFits(0)
    return cache
  }

  get totalBytes(): number {
    return this.total
  }

  get count(): number {
    return this.keys.length
  }

  has(hash: Uint8Array): boolean {
    return this.sizes.has(hashToHex(hash))
  }

  /** Stores a chunk whose hash the caller has verified. Returns false when it does not fit at all. */
  async put(hash: Uint8Array, data: Uint8Array): Promise<boolean> {
    const key = hashToHex(hash)
    if (this.sizes.has(key)) return true
    if (data.byteLength > this.limitBytes) return false
    await this.evictUntilFits(data.byteLength)
    const dir = join(this.dir, key.slice(0, 2))
    await mkdir(dir, { recursive: true })
    const tmp = join(dir, `${key}.${randomBytes(4).toString('hex')}.tmp`)
    try {
      await writeFile(tmp, data)
      await rename(tmp, join(dir, key))
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
    this.track(key, data.byteLength)
    return true
  }

  /** The chunk's bytes, or null when absent or when the stored bytes no longer match the hash. */
  async get(hash: Uint8Array): Promise<Uint8Array | null> {
    const key = hashToHex(hash)
    if (!this.sizes.has(key)) return null
    let data: Uint8Array
    try {
      data = await readFile(this.pathOf(key))
    } catch {
      this.untrack(key)
      return null
    }
    if (hashToHex(chunkHash(data)) !== key) {
      await this.remove(key)
      return null
    }
    return data
  }

  async delete(hash: Uint8Array): Promise<void> {
    await this.remove(hashToHex(hash))
  }

  private pathOf(key: string): string {
    return join(this.dir, key.slice(0, 2), key)
  }

  private async evictUntilFits(incoming: number): Promise<void> {
    while (this.keys.length > 0 && this.total + incoming > this.limitBytes) {
      await this.remove(this.keys[randomInt(this.keys.length)])
    }
  }

  private async remove(key: string): Promise<void> {
    if (!this.sizes.has(key)) return
    this.untrack(key)
    await rm(this.pathOf(key), { force: true })
  }

  private track(key: string, size: number): void {
    if (this.sizes.has(key)) return
    this.sizes.set(key, size)
    this.slot.set(key, this.keys.length)
    this.keys.push(key)
    this.total += size
  }

  private untrack(key: string): void {
    const size = this.sizes.get(key)
    if (size === undefined) return
    const i = this.slot.get(key) as number
    const last = this.keys.pop() as string
    if (last !== key) {
      this.keys[i] = last
      this.slot.set(last, i)
    }
    this.slot.delete(key)
    this.sizes.delete(key)
    this.total -= size
  }
}
