import { HASH_BYTES } from '../../store/xet/index.ts'
import { ProtocolError } from '../wire/errors.ts'
import { Message, encodeMessage } from '../wire/message.ts'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * Messages of /hffs/chunks/1.0.0, one length-prefixed frame each. One batch per stream:
 *   → {type:'want', hashes:[32-byte hash, …]}   a CBOR map, 1..maxBatchSize hashes
 *   ← one answer frame per hash, in request order: 0x00 ‖ chunk bytes, or 0x01 when missing
 * then the server closes. Answers are raw bytes, not CBOR, so a chunk goes out without being copied.
 */

const HAVE = 0x00
const MISSING = 0x01

export type ChunkAnswer = { type: 'chunk'; data: Uint8Array } | { type: 'missing' }

/** Frame bound for a want of `maxBatchSize` hashes (each hash and its CBOR header, plus the map). */
export function maxWantBytes(maxBatchSize: number): number {
  return maxBatchSize * (HASH_BYTES + 2) + 64
}

export function encodeWant(hashes: readonly Uint8Array[]): Uint8Array {
  return encodeMessage({ type: 'want', hashes })
}

export function decodeWant(bytes: Uint8Array, maxBatchSize: number): Uint8Array[] {
  const msg = Message.decode(bytes, 'chunk request')
  if (msg.type !== 'want') throw new ProtocolError(`chunk request: unknown type ${JSON.stringify(msg.type)}`)
  const hashes = msg.expectKeys('type', 'hashes').array('hashes', maxBatchSize)
  if (hashes.length === 0) throw new ProtocolError('chunk request: no hashes')
  for (const hash of hashes) {
    if (!(hash instanceof Uint8Array) || hash.byteLength !== HASH_BYTES) {
      throw new ProtocolError('chunk request: a hash is not 32 bytes')
    }
  }
  return hashes as Uint8Array[]
}

export function encodeAnswer(data: Uint8Array | null): Uint8Array | Uint8ArrayList {
  return data === null ? Uint8Array.of(MISSING) : new Uint8ArrayList(Uint8Array.of(HAVE), data)
}

export function decodeAnswer(frame: Uint8Array): ChunkAnswer {
  if (frame.byteLength === 1 && frame[0] === MISSING) return { type: 'missing' }
  if (frame.byteLength > 1 && frame[0] === HAVE) {
    // A plain Uint8Array view (the transport hands out Buffers), no copy.
    return { type: 'chunk', data: new Uint8Array(frame.buffer, frame.byteOffset + 1, frame.byteLength - 1) }
  }
  throw new ProtocolError(`chunk answer: malformed frame of ${frame.byteLength} bytes`)
}
