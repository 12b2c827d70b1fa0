import assert from 'node:assert/strict'
import { createBLAKE3 } from 'hash-wasm'
import { KeyedBlake3Simd, SIMD_MAX_INPUT } from '../../../src/store/xet/blake3-simd.ts'
import { DATA_KEY } from '../../../src/store/xet/constants.ts'
import { blake3Backend, createKeyedBlake3 } from '../../../src/store/xet/keyed-blake3.ts'
import { splitmix64Bytes } from './splitmix64.ts'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

const data = splitmix64Bytes(SIMD_MAX_INPUT + 100, 42)
// Every tree shape from 1 to 128 BLAKE3 chunks, with full, partial and 1-byte last chunks and blocks.
const sizes = [0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 3071, 4096, 4097, 5 * 1024 + 7, 8191, 65535, 65536]
for (let chunks = 1; chunks <= 128; chunks++) sizes.push(chunks * 1024 - 1, chunks * 1024, chunks * 1024 + 1)
const keys = [DATA_KEY, new Uint8Array(32), splitmix64Bytes(32, 7)]

describe('KeyedBlake3Simd', () => {
  it('agrees with hash-wasm for every tree shape up to a maximum-size chunk', async () => {
    for (const key of keys) {
      const simd = new KeyedBlake3Simd(key)
      const reference = await createBLAKE3(256, key)
      for (const size of sizes.filter((n) => n <= SIMD_MAX_INPUT)) {
        const input = data.subarray(100 - (size % 100), 100 - (size % 100) + size)
        reference.init()
        reference.update(input)
        assert.equal(hex(simd.hash(input)), hex(reference.digest('binary')), `${size} bytes`)
      }
    }
  })

  it('returns a plain Uint8Array of its own', () => {
    const simd = new KeyedBlake3Simd(DATA_KEY)
    const first = simd.hash(data.subarray(0, 10))
    simd.hash(data.subarray(0, 5000))
    assert.equal(Object.getPrototypeOf(first), Uint8Array.prototype)
    assert.equal(first.byteLength, first.buffer.byteLength)
    assert.equal(hex(first), hex(simd.hash(data.subarray(0, 10))))
  })

  it('hashes two parts as their concatenation', () => {
    const simd = new KeyedBlake3Simd(DATA_KEY)
    const whole = hex(simd.hash(data.subarray(0, 70_000)))
    for (const cut of [0, 1, 1024, 4096, 69_999, 70_000]) {
      assert.equal(hex(simd.hash(data.subarray(0, cut), data.subarray(cut, 70_000))), whole, `cut at ${cut}`)
    }
  })

  it('refuses inputs over SIMD_MAX_INPUT; createKeyedBlake3 falls back to hash-wasm for them', async () => {
    const simd = new KeyedBlake3Simd(DATA_KEY)
    assert.throws(() => simd.hash(data), RangeError)
    const keyed = await createKeyedBlake3(DATA_KEY, 'wasm')
    const reference = await createBLAKE3(256, DATA_KEY)
    reference.init()
    reference.update(data)
    assert.equal(hex(keyed.digest(data)), hex(reference.digest('binary')))
    assert.equal(hex(keyed.digest(data.subarray(0, 10), data.subarray(10))), hex(keyed.digest(data)))
  })
})

describe('createKeyedBlake3, native backend', () => {
  it('is the one in use on Linux x64, where @napi-rs/blake-hash ships a prebuilt binary', function () {
    if (process.platform !== 'linux' || process.arch !== 'x64') this.skip()
    assert.equal(blake3Backend(), process.env.HFFS_BLAKE3 === 'wasm' ? 'wasm' : 'native')
  })

  it('agrees with hash-wasm for every tree shape and split, and keeps each result', async function () {
    if (blake3Backend() !== 'native') this.skip()
    for (const key of keys) {
      const keyed = await createKeyedBlake3(key, 'native')
      const reference = await createBLAKE3(256, key)
      for (const size of [...sizes, SIMD_MAX_INPUT + 100]) {
        const input = data.subarray(0, size)
        reference.init()
        reference.update(input)
        const expected = hex(reference.digest('binary'))
        const got = keyed.digest(input)
        assert.equal(hex(keyed.digest(input.subarray(0, size >> 1), input.subarray(size >> 1))), expected)
        assert.equal(hex(got), expected, `${size} bytes`)
      }
    }
  })
})

describe('createKeyedBlake3, digestParts', () => {
  it('hashes any number of pieces as their concatenation, on every backend', async () => {
    const backends = blake3Backend() === 'native' ? (['native', 'wasm'] as const) : (['wasm'] as const)
    for (const backend of backends) {
      const keyed = await createKeyedBlake3(DATA_KEY, backend)
      for (const size of [1, 1024, 65_536, 70_001, SIMD_MAX_INPUT + 100]) {
        const input = data.subarray(0, size)
        const expected = hex(keyed.digest(input))
        for (const pieces of [1, 2, 3, 5]) {
          const cuts = Array.from({ length: pieces - 1 }, (_, i) => Math.floor((size * (i + 1)) / pieces))
          const parts = [0, ...cuts].map((from, i) => input.subarray(from, [...cuts, size][i]))
          assert.equal(
            hex(keyed.digestParts(parts)),
            expected,
            `${backend}, ${size} bytes in ${pieces} pieces`,
          )
        }
      }
    }
  })
})
