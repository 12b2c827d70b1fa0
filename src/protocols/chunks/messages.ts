import { HASH_BYTES } from '../../store/xet/index.ts'
import { ProtocolError } from '../wire/errors.ts'
import { framePrefixLength, writeFramePrefix } from '../wire/framed-stream.ts'
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
export type ChunkAnswerParts = { type: 'chunk'; data: Uint8Array[] } | { type: 'missing' }

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

/** Bytes before a chunk of `length` bytes in its answer frame: the frame's length prefix and the status byte. */
export function answerHeaderBytes(length: number): number {
  return framePrefixLength(1 + length) + 1
}

/**
 * The answer frames of chunks that fill one buffer of their own, in order, each right after
 * answerHeaderBytes of free space (as ChunkSource.readChunks lays them out with `reserve`): the headers
 * are written into that space and the whole buffer is the frames, with no copy. Null when the chunks are
 * laid out any other way (one missing, or from elsewhere): then encode them with encodeAnswer.
 */
export function answerFramesInPlace(chunks: readonly (Uint8Array | null)[]): Uint8Array | null {
  if (chunks.length === 0 || chunks[0] === null) return null
  const buffer = chunks[0].buffer
  let end = 0
  for (const chunk of chunks) {
    if (chunk === null || chunk.buffer !== buffer) return null
    if (chunk.byteOffset !== end + answerHeaderBytes(chunk.byteLength)) return null
    end = chunk.byteOffset + chunk.byteLength
  }
  // Only a buffer that these chunks and their free space fill exactly is ours to write into.
  if (end !== buffer.byteLength) return null
  const frames = new Uint8Array(buffer)
  end = 0
  for (const chunk of chunks) {
    end = writeFramePrefix(frames, end, 1 + chunk!.byteLength)
    frames[end++] = HAVE
    end += chunk!.byteLength
  }
  return frames
}

export function decodeAnswer(frame: Uint8Array): ChunkAnswer {
  if (frame.byteLength === 1 && frame[0] === MISSING) return { type: 'missing' }
  if (frame.byteLength > 1 && frame[0] === HAVE) {
    // A plain Uint8Array view (the transport hands out Buffers), no copy.
    return { type: 'chunk', data: new Uint8Array(frame.buffer, frame.byteOffset + 1, frame.byteLength - 1) }
  }
  throw new ProtocolError(`chunk answer: malformed frame of ${frame.byteLength} bytes`)
}

/** decodeAnswer for a frame read as pieces (FramedStream.readParts): the chunk stays in its pieces. */
export function decodeAnswerParts(frame: readonly Uint8Array[]): ChunkAnswerParts {
  const first = frame[0]
  if (frame.length === 1) {
    const answer = decodeAnswer(first)
    return answer.type === 'missing' ? answer : { type: 'chunk', data: [answer.data] }
  }
  if (first === undefined || first.byteLength === 0 || first[0] !== HAVE)
    throw new ProtocolError('chunk answer: malformed frame')
  const data = frame.slice(first.byteLength === 1 ? 1 : 0)
  if (first.byteLength > 1) data[0] = first.subarray(1)
  return { type: 'chunk', data }
}
