import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { patchXsalsa20ForLargeBuffers } from '../../src/node/pnet-xsalsa20-patch.ts'

type Cipher = { update(input: Uint8Array): Uint8Array; finalize(): void }
const xsalsa20 = createRequire(import.meta.resolve('@libp2p/pnet'))('xsalsa20') as (
  nonce: Uint8Array,
  key: Uint8Array,
) => Cipher

describe('private swarm cipher (xsalsa20 under @libp2p/pnet)', () => {
  const nonce = randomBytes(24)
  const key = randomBytes(32)

  it('encrypts a buffer larger than its WebAssembly memory allows, the same bytes as in small pieces', () => {
    patchXsalsa20ForLargeBuffers()
    const data = randomBytes(70 * 1024 * 1024) // over the module's 64 MB: threw "Memory.grow()" before
    const whole = xsalsa20(nonce, key).update(data)
    const pieces = xsalsa20(nonce, key)
    const step = 1_000_003 // not a multiple of the 64-byte block: the stream position must carry over
    for (let at = 0; at < data.byteLength; at += step) {
      const end = Math.min(at + step, data.byteLength)
      assert.ok(
        Buffer.from(pieces.update(data.subarray(at, end))).equals(whole.subarray(at, end)),
        `at ${at}`,
      )
    }
    assert.ok(Buffer.from(xsalsa20(nonce, key).update(whole)).equals(data), 'and decrypts back')
  })

  it('keeps many ciphers working while one of them grows the memory (each used to grow it again)', () => {
    patchXsalsa20ForLargeBuffers()
    const ciphers = Array.from({ length: 200 }, () => xsalsa20(nonce, key))
    const twins = Array.from({ length: 200 }, () => xsalsa20(nonce, key))
    // Ciphers that are never finalized (pnet never does) each take 64 bytes of the memory for good: after
    // 60 000 of them the next cipher at work has to grow it, which detaches the view of all the others.
    for (let i = 0; i < 60_000; i++) xsalsa20(nonce, key)
    const piece = randomBytes(900_000)
    // Had each detached cipher grown the memory again by what it needs (about 5 MB here), the 64 MB limit
    // would be reached within the first round.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < ciphers.length; i++) {
        const a = ciphers[i].update(piece)
        const b = twins[i].update(piece)
        assert.ok(Buffer.from(a).equals(b), `cipher ${i}, round ${round}`)
      }
    }
  })
})
