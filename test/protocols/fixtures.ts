import { chunkHash, fileHash, initXet, type ChunkRef } from '../../src/store/xet/index.ts'
import type {
  BlobManifest,
  ChunkSource,
  HaveMap,
  HaveSource,
  ManifestSource,
  SnapshotListing,
  SnapshotSource,
} from '../../src/protocols/sources.ts'

/** Deterministic pseudo-random bytes (xorshift32), so tests need no fixtures on disk. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed | 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

export interface TestBlob {
  manifest: BlobManifest
  /** The bytes of each chunk, in manifest order. */
  chunkData: Uint8Array[]
}

/** A blob cut into chunks of the given lengths (not content-defined: the protocols do not care). */
export async function makeBlob(etag: string, lengths: number[], seed = 1): Promise<TestBlob> {
  await initXet()
  const chunkData = lengths.map((length, i) => pseudoRandomBytes(length, seed * 7919 + i))
  const chunks: ChunkRef[] = chunkData.map((data) => ({ hash: chunkHash(data), length: data.byteLength }))
  const size = lengths.reduce((a, b) => a + b, 0)
  return { manifest: { etag, size, xetHash: fileHash(chunks), chunks }, chunkData }
}

export const COMMIT = 'a'.repeat(40)
export const ETAG_A = '1'.repeat(64)
export const ETAG_B = '2'.repeat(40)

/** In-memory implementations of every source interface, with hooks for tests. */
export class MemorySources implements SnapshotSource, ManifestSource, HaveSource, ChunkSource {
  readonly snapshots = new Map<string, SnapshotListing>()
  readonly manifests = new Map<string, BlobManifest>()
  readonly haveMaps = new Map<string, HaveMap>()
  readonly chunks = new Map<string, Uint8Array>()
  readonly private = new Set<string>()
  readonly listeners = new Map<string, Set<(indices: number[]) => void>>()
  chunkReads = 0

  addBlob(blob: TestBlob): void {
    this.manifests.set(blob.manifest.etag, blob.manifest)
    blob.chunkData.forEach((data, i) => this.chunks.set(key(blob.manifest.chunks[i].hash), data))
  }

  async getSnapshot(repoType: string, repoId: string, revision: string): Promise<SnapshotListing | null> {
    return this.snapshots.get(`${repoType}/${repoId}@${revision}`) ?? null
  }

  mayServe(repoType: string, repoId: string): boolean {
    return !this.private.has(`${repoType}/${repoId}`)
  }

  async getManifest(etag: string): Promise<BlobManifest | null> {
    return this.manifests.get(etag) ?? null
  }

  async getHaveMap(etag: string): Promise<HaveMap | null> {
    const map = this.haveMaps.get(etag)
    return map === undefined ? null : { chunkCount: map.chunkCount, bits: map.bits.slice() }
  }

  subscribe(etag: string, onChunks: (indices: number[]) => void): () => void {
    const set = this.listeners.get(etag) ?? new Set()
    this.listeners.set(etag, set)
    set.add(onChunks)
    return () => set.delete(onChunks)
  }

  /** Marks chunks as held and tells subscribers, as the node does when it verifies new chunks. */
  announce(etag: string, indices: number[]): void {
    const map = this.haveMaps.get(etag)
    if (map !== undefined) for (const i of indices) map.bits[i >> 3] |= 1 << (i & 7)
    for (const listener of this.listeners.get(etag) ?? []) listener(indices)
  }

  subscriberCount(etag: string): number {
    return this.listeners.get(etag)?.size ?? 0
  }

  async readChunk(hash: Uint8Array): Promise<Uint8Array | null> {
    this.chunkReads++
    return this.chunks.get(key(hash)) ?? null
  }
}

function key(hash: Uint8Array): string {
  return Buffer.from(hash).toString('hex')
}

/** Polls until `condition()` holds; fails after `ms`. */
export async function waitFor(condition: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} still false after ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
