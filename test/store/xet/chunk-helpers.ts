import { ChunkBoundaryScanner, chunkHash, type ChunkInfo } from '../../../src/store/xet/index.ts'
import type { ChunkPipeline } from '../../../src/store/xet/chunk-pipeline.ts'

/** Chunks of `data` computed the simple way: boundaries from the scanner, then chunkHash (needs initXet). */
export function expectedChunks(data: Uint8Array): ChunkInfo[] {
  const scanner = new ChunkBoundaryScanner()
  let offset = 0
  return [...scanner.push(data), ...scanner.finish()].map((end) => {
    const chunk = { offset, length: end - offset, hash: chunkHash(data.subarray(offset, end)) }
    offset = end
    return chunk
  })
}

/**
 * Pushes `data` in blocks of the given sizes through a reused scratch buffer, scribbled over as soon
 * as each push resolves, then finishes.
 */
export async function chunkInBlocks(
  chunker: Pick<ChunkPipeline, 'push' | 'finish'>,
  data: Uint8Array,
  blockSize: () => number,
): Promise<ChunkInfo[]> {
  const chunks: ChunkInfo[] = []
  const scratch = new Uint8Array(data.length)
  for (let at = 0; at < data.length;) {
    const size = Math.min(Math.max(1, blockSize()), data.length - at)
    const block = scratch.subarray(0, size)
    block.set(data.subarray(at, at + size))
    chunks.push(...(await chunker.push(block)))
    block.fill(0xa5)
    at += size
  }
  return chunks.concat(await chunker.finish())
}

/** Deterministic pseudo-random block sizes in [1, max]. */
export function randomSizes(seed: number, max: number): () => number {
  let state = seed
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return 1 + (state % max)
  }
}
