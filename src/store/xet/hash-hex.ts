import { Buffer } from 'node:buffer'
import { HASH_BYTES } from './constants.ts'
import { InvalidXetHashError } from './errors.ts'

/** The bytes of a hash in print order, hex-encoded by Buffer in one flat string. */
const scratch = Buffer.alloc(HASH_BYTES)
const HEX_HASH = /^[0-9a-fA-F]{64}$/

/**
 * The Xet string form: xet-core prints the hash as four little-endian u64 words, so the bytes
 * inside each 8-byte group come out reversed.
 */
export function hashToHex(hash: Uint8Array): string {
  if (hash.length !== HASH_BYTES) throw new InvalidXetHashError(`a Xet hash has 32 bytes, got ${hash.length}`)
  // Not `out += byte` 32 times: that builds a rope of 32 pieces, which a Map lookup copies flat first.
  for (let group = 0; group < HASH_BYTES; group += 8) {
    for (let i = 0; i < 8; i++) scratch[group + i] = hash[group + 7 - i]
  }
  return scratch.toString('hex')
}

/** Inverse of hashToHex; accepts either letter case. */
export function hexToHash(hex: string): Uint8Array {
  if (typeof hex !== 'string' || !HEX_HASH.test(hex)) {
    throw new InvalidXetHashError(
      `not a Xet hash (64 hex digits): ${JSON.stringify(String(hex).slice(0, 80))}`,
    )
  }
  const hash = new Uint8Array(HASH_BYTES)
  for (let group = 0; group < HASH_BYTES; group += 8) {
    for (let i = 0; i < 8; i++) {
      hash[group + 7 - i] = parseInt(hex.slice((group + i) * 2, (group + i) * 2 + 2), 16)
    }
  }
  return hash
}
