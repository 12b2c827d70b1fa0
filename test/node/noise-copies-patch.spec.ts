import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { patchedNoiseStreamPrototype, sealWithoutJoin } from '../../src/node/noise-copies-patch.ts'
import { receiveAll, useNodes } from '../protocols/nodes.ts'

const PROTOCOL = '/test/noise-decrypt/1.0.0'

interface Decrypting {
  handshake: {
    decrypt(ciphertext: Uint8Array | Uint8ArrayList, dst?: Uint8Array): Uint8Array | Uint8ArrayList
  }
  metrics?: undefined
  decrypt(chunk: Uint8Array | Uint8ArrayList): Uint8ArrayList
}

describe('Noise with fewer copies (patch)', function () {
  this.timeout(20_000)
  const make = useNodes()

  it('carries 8 MiB intact between two nodes', async () => {
    const [sender, receiver] = await Promise.all([make({}), make({})])
    const data = randomBytes(8 * 1024 * 1024)
    const received = receiveAll(receiver, PROTOCOL)
    const stream = await sender.dialProtocol(receiver.getMultiaddrs(), PROTOCOL)
    for (let at = 0; at < data.length; at += 256 * 1024) {
      if (!stream.send(data.subarray(at, at + 256 * 1024))) await stream.onDrain()
    }
    await stream.close()
    assert.ok((await received).equals(data))
  })

  it('gives the cipher no copy of a large message that came in pieces, and small ones their buffer', async () => {
    const [a, b] = await Promise.all([make({}), make({})])
    await a.dial(b.getMultiaddrs()) // a secured connection patches the class
    const proto = patchedNoiseStreamPrototype()
    assert.ok(proto !== undefined, 'no Noise stream was patched')
    const seen: { pieces: number; bytes: number; dst: number | undefined }[] = []
    const stream = Object.create(proto) as Decrypting
    stream.handshake = {
      decrypt(ciphertext, dst) {
        const pieces = ciphertext instanceof Uint8Array ? 1 : [...ciphertext].length
        seen.push({ pieces, bytes: ciphertext.byteLength, dst: dst?.byteLength })
        return new Uint8Array(ciphertext.byteLength - 16).fill(pieces)
      },
    }
    // One message of 65535 bytes in two pieces, as two socket reads bring it; one of 100 bytes.
    const big = randomBytes(65535)
    const small = randomBytes(100)
    const subarray = Uint8ArrayList.prototype.subarray
    let copies = 0
    Uint8ArrayList.prototype.subarray = function (this: Uint8ArrayList, ...args) {
      if ([...this].length > 1) copies++
      return subarray.apply(this, args)
    }
    try {
      const out = stream.decrypt(new Uint8ArrayList(big.subarray(0, 40_000), big.subarray(40_000)))
      assert.equal(copies, 0, 'the large message was copied')
      assert.deepEqual(seen, [{ pieces: 2, bytes: 65535, dst: undefined }])
      assert.equal(out.byteLength, 65535 - 16)
      stream.decrypt(small)
      assert.deepEqual(seen[1], { pieces: 1, bytes: 100, dst: 84 })
    } finally {
      Uint8ArrayList.prototype.subarray = subarray
    }
    assert.throws(() => stream.decrypt(new Uint8Array(10)), /Invalid chunk/)
  })

  it('seals a large message as its ciphertext and tag, not joined; a small one as before', () => {
    const k = randomBytes(32)
    const nonce = randomBytes(12)
    const ad = randomBytes(32)
    const plaintext = randomBytes(65519)
    const sealed = sealWithoutJoin.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    assert.ok(!(sealed instanceof Uint8Array), 'joined into one buffer')
    const pieces = [...sealed]
    assert.equal(pieces.length, 2)
    assert.equal(pieces[1].byteLength, 16)
    // The same bytes as the package's own sealing, and they open.
    const joined = defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    assert.ok(Buffer.from(sealed.subarray()).equals(Buffer.from(joined.subarray())))
    const opened = defaultCrypto.chaCha20Poly1305Decrypt(sealed.subarray(), nonce, ad, k)
    assert.ok(Buffer.from(opened.subarray()).equals(plaintext))
    const small = randomBytes(100)
    const a = sealWithoutJoin.chaCha20Poly1305Encrypt(small, nonce, ad, k)
    assert.ok(
      Buffer.from(a.subarray()).equals(
        Buffer.from(defaultCrypto.chaCha20Poly1305Encrypt(small, nonce, ad, k).subarray()),
      ),
    )
  })
})
