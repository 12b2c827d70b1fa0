import assert from 'node:assert/strict'
import { hashToHex, hexToHash } from '../../../src/store/xet/index.ts'

describe('hashToHex / hexToHash', () => {
  const examples: [number[], string][] = [
    // The fixture's prose and the reference notes drop the "10" of the third group (62 digits).
    [
      Array.from({ length: 32 }, (_, i) => i),
      '07060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918',
    ],
    [
      [
        22, 175, 58, 132, 4, 75, 131, 214, 190, 153, 138, 66, 226, 3, 153, 242, 204, 86, 80, 234, 249, 153,
        80, 99, 159, 80, 65, 138, 236, 231, 149, 78,
      ],
      'd6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509f',
    ],
  ]

  it('reverses the bytes inside each 8-byte group', () => {
    for (const [raw, hex] of examples) {
      assert.equal(hashToHex(Uint8Array.from(raw)), hex)
      assert.deepEqual(hexToHash(hex), Uint8Array.from(raw))
    }
  })

  it('accepts upper case and round-trips', () => {
    const hex = examples[1][1]
    assert.deepEqual(hexToHash(hex.toUpperCase()), hexToHash(hex))
    assert.equal(hashToHex(hexToHash(hex)), hex)
  })

  it('throws InvalidXetHashError on anything else', () => {
    for (const bad of [
      '',
      'xyz',
      '0'.repeat(63),
      '0'.repeat(65),
      `${'0'.repeat(63)}g`,
      ` ${'0'.repeat(63)}`,
    ]) {
      assert.throws(() => hexToHash(bad), { name: 'InvalidXetHashError' }, JSON.stringify(bad))
    }
    assert.throws(() => hexToHash(42 as unknown as string), { name: 'InvalidXetHashError' })
    assert.throws(() => hashToHex(new Uint8Array(31)), { name: 'InvalidXetHashError' })
  })
})
