import { setTimeout as sleep } from 'node:timers/promises'
import type { ChunkFetchOptions, ChunkReply, PeerSource } from '../../../src/node/pull/peer-source.ts'
import type { BlobManifest } from '../../../src/protocols/sources.ts'
import { chunkBytes, fileHash, hashToHex, type ChunkInfo } from '../../../src/store/xet/index.ts'

export interface FakePeerOptions {
  /** Chunk indices this peer lacks. */
  lacks?: (i: number) => boolean
  /**
   * From the n-th chunk served on, chunks are bad: a BadChunkError as the chunks client throws it, or, asked
   * with `verify: false`, the chunk's bytes with one changed.
   */
  badAfter?: number
  /** Fail the whole request (connection error) this many times first. */
  failFirst?: number
  delayMs?: number
  hasManifest?: boolean
}

export class FakePeer implements PeerSource {
  readonly id: string
  served = 0
  requests = 0
  private readonly byHash = new Map<string, Uint8Array>()
  private readonly manifest: BlobManifest
  private readonly options: FakePeerOptions
  private failures = 0

  constructor(
    id: string,
    etag: string,
    data: Uint8Array,
    chunks: ChunkInfo[],
    options: FakePeerOptions = {},
  ) {
    this.id = id
    this.options = options
    chunks.forEach((c, i) => {
      if (options.lacks?.(i) !== true)
        this.byHash.set(hashToHex(c.hash), data.subarray(c.offset, c.offset + c.length))
    })
    this.manifest = {
      etag,
      size: data.byteLength,
      xetHash: fileHash(chunks),
      chunks: chunks.map((c) => ({ hash: c.hash, length: c.length })),
    }
  }

  static async of(id: string, etag: string, data: Uint8Array, options?: FakePeerOptions): Promise<FakePeer> {
    return new FakePeer(id, etag, data, await chunkBytes(data), options)
  }

  async fetchManifest(etag: string): Promise<BlobManifest | null> {
    return this.options.hasManifest === false || etag !== this.manifest.etag ? null : this.manifest
  }

  /** Chunks handed over with `verify: false` (unchecked). */
  unchecked = 0

  async *fetchChunks(hashes: Uint8Array[], options: ChunkFetchOptions): AsyncIterable<ChunkReply> {
    this.requests++
    if (this.failures < (this.options.failFirst ?? 0)) {
      this.failures++
      throw new Error('connection reset')
    }
    for (const hash of hashes) {
      options.signal?.throwIfAborted()
      if (this.options.delayMs !== undefined) await sleep(this.options.delayMs)
      const data = this.byHash.get(hashToHex(hash))
      if (data === undefined) {
        yield { hash, missing: true }
        continue
      }
      const bad = this.options.badAfter !== undefined && this.served >= this.options.badAfter
      if (options.verify === false) {
        this.served++
        this.unchecked++
        if (bad) {
          const wrong = Uint8Array.from(data)
          wrong[wrong.length >> 1] ^= 0xff
          yield { hash, data: wrong }
        } else yield { hash, data }
        continue
      }
      if (bad) {
        const err = new Error(`bad chunk from ${this.id}`)
        err.name = 'BadChunkError'
        throw err
      }
      this.served++
      yield { hash, data }
    }
  }
}
