import { isEtag } from '../../store/hf-cache/index.ts'
import { ProtocolError } from '../wire/errors.ts'
import { Message, encodeMessage } from '../wire/message.ts'
import { bitfieldBytes, hasBitsPast } from './bitfield.ts'
import { MAX_UPDATE_INDICES } from './constants.ts'
import type { HaveMap } from '../sources.ts'

/**
 * Messages of /hffs/have/1.0.0, each one CBOR map in one length-prefixed frame. One subscription per stream:
 *   → {type:'have', etag}
 *   ← {type:'have', chunkCount, bits} | {type:'not-found'} | {type:'busy'}
 *   ← {type:'update', indices:[…]}  (0..4096 chunk indices newly held), any number of times
 *   ← {type:'end'}                   when the server ends the subscription; then it closes
 * The client ends it by closing or resetting the stream.
 */

export type HaveAnswer = { type: 'have'; haveMap: HaveMap } | { type: 'not-found' } | { type: 'busy' }

export type HaveUpdate = { type: 'update'; indices: number[] } | { type: 'end' }

export function encodeRequest(etag: string): Uint8Array {
  return encodeMessage({ type: 'have', etag })
}

export function decodeRequest(bytes: Uint8Array): string {
  const msg = Message.decode(bytes, 'have request')
  if (msg.type !== 'have') throw new ProtocolError(`have request: unknown type ${JSON.stringify(msg.type)}`)
  const etag = msg.expectKeys('type', 'etag').string('etag', 64)
  if (!isEtag(etag)) throw new ProtocolError('have request: not an etag')
  return etag
}

export function encodeAnswer(answer: HaveAnswer): Uint8Array {
  if (answer.type !== 'have') return encodeMessage({ type: answer.type })
  return encodeMessage({ type: 'have', chunkCount: answer.haveMap.chunkCount, bits: answer.haveMap.bits })
}

export function decodeAnswer(bytes: Uint8Array, maxChunks: number): HaveAnswer {
  const msg = Message.decode(bytes, 'have answer')
  const type = msg.type
  if (type === 'not-found' || type === 'busy') {
    msg.expectKeys('type')
    return { type }
  }
  if (type !== 'have') throw new ProtocolError(`have answer: unexpected type ${JSON.stringify(type)}`)
  const chunkCount = msg.expectKeys('type', 'chunkCount', 'bits').uint('chunkCount', maxChunks)
  const bits = msg.bytes('bits', bitfieldBytes(maxChunks))
  if (bits.byteLength !== bitfieldBytes(chunkCount) || hasBitsPast(bits, chunkCount)) {
    throw new ProtocolError(`have answer: ${bits.byteLength} bytes is not a bitmap of ${chunkCount} chunks`)
  }
  return { type, haveMap: { chunkCount, bits } }
}

export function encodeUpdate(update: HaveUpdate): Uint8Array {
  return encodeMessage({ ...update })
}

export function decodeUpdate(bytes: Uint8Array, chunkCount: number): HaveUpdate {
  const msg = Message.decode(bytes, 'have update')
  if (msg.type === 'end') {
    msg.expectKeys('type')
    return { type: 'end' }
  }
  if (msg.type !== 'update')
    throw new ProtocolError(`have update: unexpected type ${JSON.stringify(msg.type)}`)
  const indices = msg.expectKeys('type', 'indices').uintArray('indices', MAX_UPDATE_INDICES, chunkCount - 1)
  return { type: 'update', indices }
}
