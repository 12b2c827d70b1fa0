/** Where one chunk's bytes lie: in the blob `etag`, at `offset`. */
export interface ChunkLocation {
  etag: string
  offset: number
  length: number
}

/** Chunk locations kept in memory (~150 bytes each): 131,072 chunks of 64 KiB, 8 GiB of blobs, ~20 MB. */
const LOCATION_CACHE_MAX = 131_072

/**
 * Chunk locations of the blobs served lately, by chunk hash, each blob's loaded whole the first time one of
 * its chunks is asked for: a peer asks for 4 chunks at a time, and a query per group cost a seeder 0.3 s
 * per GiB served. A location never changes while its blob is indexed; ShardIndex clears this whenever it
 * records or forgets a blob or a blob file.
 */
export class ChunkLocationCache {
  readonly #byHash = new Map<string, ChunkLocation>()
  /** Blobs whose locations were loaded, or tried and found too many. */
  readonly #blobs = new Set<string>()

  get(hash: Uint8Array): ChunkLocation | undefined {
    return this.#byHash.get(Buffer.from(hash).toString('hex'))
  }

  /** Loads every chunk location of `etag` from `query`, unless done (or tried) before or too many to keep. */
  addBlob(etag: string, query: () => { hash: Uint8Array; offset: number; length: number }[]): void {
    if (this.#blobs.has(etag)) return
    this.#blobs.add(etag) // even if it does not fit: not tried again for each chunk
    const rows = query()
    if (rows.length > LOCATION_CACHE_MAX) return
    if (this.#byHash.size + rows.length > LOCATION_CACHE_MAX) {
      this.clear()
      this.#blobs.add(etag)
    }
    for (const row of rows) {
      this.#byHash.set(Buffer.from(row.hash).toString('hex'), {
        etag,
        offset: row.offset,
        length: row.length,
      })
    }
  }

  clear(): void {
    this.#byHash.clear()
    this.#blobs.clear()
  }
}
