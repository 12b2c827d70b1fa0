import { HASH_BYTES, MERKLE_BRANCHING, MERKLE_MAX_CHILDREN } from './constants.ts'
import { hashToHex } from './hash-hex.ts'
import { keyedHashers } from './keyed-hashers.ts'
import type { ChunkRef } from './types.ts'

const utf8 = new TextEncoder()

/**
 * The xorb hash: xet-core's aggregated merkle hash with variable branching. Empty → all zeros;
 * a single chunk → its own hash.
 */
export function xorbHash(chunks: readonly ChunkRef[]): Uint8Array {
  if (chunks.length === 0) return new Uint8Array(HASH_BYTES)
  let level: readonly ChunkRef[] = chunks
  while (level.length > 1) {
    const next: ChunkRef[] = []
    for (let start = 0; start < level.length;) {
      const end = start + nextMergeCut(level, start)
      next.push(mergedNode(level, start, end))
      start = end
    }
    level = next
  }
  return level[0].hash.slice()
}

/** The file hash (the Hub's `xetHash`): the root keyed with the zero salt. Empty file → all zeros. */
export function fileHash(chunks: readonly ChunkRef[]): Uint8Array {
  if (chunks.length === 0) return new Uint8Array(HASH_BYTES)
  return keyedHashers().file.digest(xorbHash(chunks))
}

/** Size of the next group: ends after a child whose hash is 0 mod 4, at least 3 and at most 9 children. */
function nextMergeCut(level: readonly ChunkRef[], start: number): number {
  const remaining = level.length - start
  if (remaining <= 2) return remaining
  const end = Math.min(MERKLE_MAX_CHILDREN, remaining)
  for (let i = 2; i < end; i++) {
    // hash % 4 where xet-core reads bytes 24..32 as a little-endian u64
    if (level[start + i].hash[24] % MERKLE_BRANCHING === 0) return i + 1
  }
  return end
}

/** An internal node hashes the text "{child hex} : {child length}\n" of its children. */
function mergedNode(level: readonly ChunkRef[], start: number, end: number): ChunkRef {
  let text = ''
  let length = 0
  for (let i = start; i < end; i++) {
    text += `${hashToHex(level[i].hash)} : ${level[i].length}\n`
    length += level[i].length
  }
  return { hash: keyedHashers().internalNode.digest(utf8.encode(text)), length }
}
