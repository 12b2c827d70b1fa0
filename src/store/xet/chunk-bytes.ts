import { XetChunker, defaultWorkerCount } from './xet-chunker.ts'
import type { ChunkInfo } from './types.ts'

/** Below this size, starting worker threads costs more than it saves. */
const WORKER_MIN_BYTES = 16 << 20

/** Chunks and hashes a whole buffer. */
export async function chunkBytes(data: Uint8Array, signal?: AbortSignal): Promise<ChunkInfo[]> {
  const workers = data.length >= WORKER_MIN_BYTES ? defaultWorkerCount() : 0
  const chunker = await XetChunker.create({ workers })
  try {
    const chunks = await chunker.push(data, signal)
    return chunks.concat(await chunker.finish(signal))
  } finally {
    await chunker.close()
  }
}
