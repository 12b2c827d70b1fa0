import { XetChunker, fileHash, hashToHex, type ChunkRef } from '../../src/store/xet/index.ts'

/** Below this size, worker threads cost more than they save. */
const WORKER_MIN_BYTES = 16 << 20

export interface XetFileHasher {
  update(data: Uint8Array, signal?: AbortSignal): Promise<void>
  /** The Xet file hash in the Hub's string form (`xetHash`). */
  digestHex(signal?: AbortSignal): Promise<string>
  close(): Promise<void>
}

/** Streams a file of `size` bytes through the Xet chunker, keeping only chunk hashes and lengths. */
export async function createXetFileHasher(size: number): Promise<XetFileHasher> {
  const chunker = await XetChunker.create(size >= WORKER_MIN_BYTES ? {} : { workers: 0 })
  const refs: ChunkRef[] = []
  const keep = (chunks: { hash: Uint8Array; length: number }[]): void => {
    for (const c of chunks) refs.push({ hash: c.hash, length: c.length })
  }
  return {
    update: async (data, signal) => keep(await chunker.push(data, signal)),
    digestHex: async (signal) => {
      keep(await chunker.finish(signal))
      return hashToHex(fileHash(refs))
    },
    close: () => chunker.close(),
  }
}
