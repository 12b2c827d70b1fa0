import { noise } from '@chainsafe/libp2p-noise'
import { Uint8ArrayList } from 'uint8arraylist'

/** Largest Noise message on the wire, tag included (the spec's 65535). */
const NOISE_MSG_MAX_BYTES = 65535
const TAG_BYTES = 16
/**
 * Messages from this many bytes (tag included) on are decrypted by Node's cipher, which has no use for a
 * destination buffer; smaller ones by the WebAssembly cipher, which decrypts into it (@chainsafe/libp2p-noise
 * 17, crypto/index.js `defaultCrypto`).
 */
const NODE_CIPHER_FROM = 1200

/** The parts of @chainsafe/libp2p-noise's EncryptedMessageStream used here (not exported by the package). */
interface EncryptedStream {
  handshake: {
    decrypt(ciphertext: Uint8Array | Uint8ArrayList, dst?: Uint8Array): Uint8Array | Uint8ArrayList
  }
  metrics?: { decryptedPackets: { increment(): void }; decryptErrors: { increment(): void } }
  decrypt(chunk: Uint8Array | Uint8ArrayList): Uint8ArrayList
}

/** EncryptedMessageStream's prototype, once patched. */
let patchedProto: object | undefined

/** @internal The prototype whose `decrypt` was replaced, once a connection has been secured. */
export function patchedNoiseStreamPrototype(): object | undefined {
  return patchedProto
}

/**
 * noise() with one fix. @chainsafe/libp2p-noise 17 gives every message it decrypts a destination buffer made
 * with `chunk.subarray(…)`, which for a message that came in several socket reads (a 64 KiB one nearly
 * always does) is a copy of the whole message into a new buffer: a copy and an allocation of every byte a
 * node receives, 0.28 s per GiB in a pulling node's profile plus the garbage it makes. Node's cipher, which
 * decrypts every message of 1200 bytes or more, never reads that buffer. The patched `decrypt` makes it
 * only for the small messages the WebAssembly cipher decrypts; all else is as before (the same bounds,
 * errors and metrics). The class is not exported, so its prototype is patched from the first connection
 * secured, before any message of it is decrypted.
 */
export function noiseWithoutDecryptCopies(): ReturnType<typeof noise> {
  const create = noise()
  return (components) => {
    const encrypter = create(components)
    const secureInbound = encrypter.secureInbound.bind(encrypter)
    const secureOutbound = encrypter.secureOutbound.bind(encrypter)
    encrypter.secureInbound = async (...args) => patched(await secureInbound(...args))
    encrypter.secureOutbound = async (...args) => patched(await secureOutbound(...args))
    return encrypter
  }
}

function patched<T extends { connection: unknown }>(secured: T): T {
  const proto = Object.getPrototypeOf(secured.connection) as EncryptedStream | null
  if (proto !== null && proto !== patchedProto && Object.hasOwn(proto, 'decrypt')) {
    patchedProto = proto
    proto.decrypt = decrypt
  }
  return secured
}

function decrypt(this: EncryptedStream, chunk: Uint8Array | Uint8ArrayList): Uint8ArrayList {
  const output = new Uint8ArrayList()
  for (let i = 0; i < chunk.byteLength; i += NOISE_MSG_MAX_BYTES) {
    const end = Math.min(i + NOISE_MSG_MAX_BYTES, chunk.byteLength)
    if (end - TAG_BYTES < i) throw new Error('Invalid chunk')
    const encrypted = chunk instanceof Uint8Array ? chunk.subarray(i, end) : chunk.sublist(i, end)
    // The WebAssembly cipher decrypts into `dst`, reusing the ciphertext's bytes (as the package does).
    const dst = end - i < NODE_CIPHER_FROM ? chunk.subarray(i, end - TAG_BYTES) : undefined
    try {
      output.append(this.handshake.decrypt(encrypted, dst))
      this.metrics?.decryptedPackets.increment()
    } catch (err) {
      this.metrics?.decryptErrors.increment()
      throw err
    }
  }
  return output
}
