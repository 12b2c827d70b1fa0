import { noise, type ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto, nodeCrypto } from '@chainsafe/libp2p-noise/crypto'
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
 * noise() without two copies of every byte, in its default crypto (Node's cipher from 1200 bytes on, the
 * WebAssembly one below).
 * - Sending: `defaultCrypto` joined each sealed message and its 16-byte tag with Buffer.concat, a copy of the
 *   whole message; here they stay two pieces of a list, which the socket writes with one writev anyway.
 * - Receiving: @chainsafe/libp2p-noise 17 gives every message it decrypts a destination buffer made with
 *   `chunk.subarray(…)`, which for a message that came in several socket reads (a 64 KiB one nearly always
 *   does) is a copy of the whole message: 0.28 s per GiB in a pulling node's profile, plus the garbage.
 *   Node's cipher never reads it. The patched `decrypt` makes it only for the small messages the
 *   WebAssembly cipher decrypts into; all else is as before (the same bounds, errors and metrics). The
 *   class is not exported, so its prototype is patched from the first connection secured, before any
 *   message of it is decrypted.
 */
export function noiseWithFewerCopies(): ReturnType<typeof noise> {
  const create = noise({ crypto: sealWithoutJoin })
  return (components) => {
    const encrypter = create(components)
    const secureInbound = encrypter.secureInbound.bind(encrypter)
    const secureOutbound = encrypter.secureOutbound.bind(encrypter)
    encrypter.secureInbound = async (...args) => patched(await secureInbound(...args))
    encrypter.secureOutbound = async (...args) => patched(await secureOutbound(...args))
    return encrypter
  }
}

type Sealable = Parameters<ICryptoInterface['chaCha20Poly1305Encrypt']>[0]

/** defaultCrypto, but a large message's ciphertext and tag are handed on as a list, not joined. */
export const sealWithoutJoin: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    if (plaintext.byteLength < NODE_CIPHER_FROM)
      return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    // Node's cipher, as defaultCrypto uses it; given a list, it returns the pieces and the tag as a list.
    // (Our uint8arraylist is a newer major than noise's; the two recognise each other's lists.)
    const list =
      plaintext instanceof Uint8Array ? (new Uint8ArrayList(plaintext) as unknown as Sealable) : plaintext
    return nodeCrypto.chaCha20Poly1305Encrypt(list, nonce, ad, k)
  },
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
