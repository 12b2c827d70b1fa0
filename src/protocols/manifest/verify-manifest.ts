import { MAX_CHUNK_SIZE, fileHash, hashToHex, sameHash } from '../../store/xet/index.ts'
import { BadManifestError } from './errors.ts'
import type { ManifestHeader } from './messages.ts'
import type { BlobManifest } from '../sources.ts'
import type { ChunkRef } from '../../store/xet/index.ts'

/**
 * Checks a manifest header before any page is read, so a lying peer cannot make us collect more entries
 * than its own size allows: each chunk holds 1..MAX_CHUNK_SIZE bytes.
 */
export function checkManifestHeader(peer: string, etag: string, header: ManifestHeader): void {
  if (header.etag !== etag) throw new BadManifestError(peer, `asked for ${etag}, got ${header.etag}`)
  const fewest = Math.ceil(header.size / MAX_CHUNK_SIZE)
  if (header.chunkCount < fewest || header.chunkCount > header.size) {
    throw new BadManifestError(peer, `${header.chunkCount} chunks cannot hold ${header.size} bytes`)
  }
}

/**
 * Checks a complete manifest against itself: every length in 1..MAX_CHUNK_SIZE, lengths summing to the
 * size, the merkle root of the chunks equal to the announced xetHash, and to `expectedXetHash` (the
 * Hub's) when the caller knows it. Needs `initXet()` to have resolved.
 */
export function verifyManifest(
  peer: string,
  header: ManifestHeader,
  chunks: ChunkRef[],
  expectedXetHash?: Uint8Array,
): BlobManifest {
  let total = 0
  for (const [i, chunk] of chunks.entries()) {
    if (chunk.length < 1 || chunk.length > MAX_CHUNK_SIZE) {
      throw new BadManifestError(peer, `chunk ${i} has length ${chunk.length}`)
    }
    total += chunk.length
  }
  if (total !== header.size) {
    throw new BadManifestError(peer, `chunk lengths sum to ${total}, not the size ${header.size}`)
  }
  const root = fileHash(chunks)
  if (!sameHash(root, header.xetHash)) {
    throw new BadManifestError(
      peer,
      `chunks hash to ${hashToHex(root)}, not the announced ${hashToHex(header.xetHash)}`,
    )
  }
  if (expectedXetHash !== undefined && !sameHash(root, expectedXetHash)) {
    throw new BadManifestError(
      peer,
      `xetHash ${hashToHex(root)} is not the expected ${hashToHex(expectedXetHash)}`,
    )
  }
  return { etag: header.etag, size: header.size, xetHash: header.xetHash, chunks }
}
