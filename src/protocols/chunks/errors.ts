import { hashToHex } from '../../store/xet/index.ts'

/** A peer sent bytes that do not hash to the chunk asked for. The bytes are dropped, never returned. */
export class BadChunkError extends Error {
  override name = 'BadChunkError'
  /** The peer that sent them, as a string. */
  readonly peer: string
  /** The hash that was asked for. */
  readonly hash: Uint8Array

  constructor(peer: string, hash: Uint8Array, got: Uint8Array) {
    super(`${peer} sent bytes hashing to ${hashToHex(got)} for chunk ${hashToHex(hash)}`)
    this.peer = peer
    this.hash = hash
  }
}
