import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { GEAR_TABLE } from 'gearhash-jit'
import { ChunkBoundaryScanner, MAX_CHUNK_SIZE } from '../../../src/store/xet/index.ts'
import { randomSizes } from './chunk-helpers.ts'
import { referenceBoundaries } from './reference-chunker.ts'
import { splitmix64Bytes } from './splitmix64.ts'
import { triggeringData, xetVectors } from './vectors.ts'

const { random_1mb_seed0: random1mb, const_59_1mb: const1mb, triggering } = xetVectors.vectors

function scanAll(data: Uint8Array, blockSizes: () => number = () => data.length): number[] {
  const scanner = new ChunkBoundaryScanner()
  const ends: number[] = []
  for (let at = 0; at < data.length;) {
    const size = Math.max(1, blockSizes())
    ends.push(...scanner.push(data.subarray(at, at + size)))
    at += size
  }
  return ends.concat(scanner.finish())
}

describe('ChunkBoundaryScanner', () => {
  const data = splitmix64Bytes(random1mb.n, random1mb.seed)

  it('generates the reference random data', () => {
    for (const [at, byte] of Object.entries(random1mb.bytes_at)) assert.equal(data[Number(at)], byte)
    assert.equal(createHash('sha256').update(data).digest('hex'), random1mb.sha256)
  })

  it('uses the gear table of rust-gearhash', () => {
    assert.deepEqual(
      GEAR_TABLE.map((v) => `0x${v.toString(16).padStart(16, '0')}`),
      xetVectors.gear_table_u64_hex,
    )
  })

  it('cuts 1 MB of random data where xet-core does', () => {
    assert.deepEqual(scanAll(data), random1mb.boundaries)
  })

  it('cuts constant data at the maximum chunk size', () => {
    assert.deepEqual(scanAll(new Uint8Array(const1mb.n).fill(const1mb.byte)), const1mb.boundaries)
  })

  it('ignores gear matches below the minimum chunk size (all 128 triggering cases)', () => {
    for (let padding = 0; padding < triggering.boundaries.length; padding++) {
      const input = triggeringData(padding)
      assert.equal(input[11111], triggering.byte_at_11111[padding], `data of case ${padding}`)
      assert.deepEqual(scanAll(input), triggering.boundaries[padding], `case ${padding}`)
    }
  })

  it('agrees with the byte-at-a-time spec algorithm', () => {
    const inputs = [
      data,
      splitmix64Bytes(3 << 20, 7),
      triggeringData(24),
      triggeringData(126),
      new Uint8Array(300_000),
    ]
    for (const input of inputs) assert.deepEqual(scanAll(input), referenceBoundaries(input))
  })

  it('finds the same boundaries whatever the push sizes', () => {
    const small = splitmix64Bytes(256_000, 1)
    const whole = scanAll(small)
    assert.ok(whole.length > 1)
    assert.deepEqual(
      scanAll(small, () => 1),
      whole,
    )
    for (const size of [37, 255, 8127, 8128, 65536]) {
      assert.deepEqual(
        scanAll(data, () => size),
        random1mb.boundaries,
        `blocks of ${size}`,
      )
    }
    for (const seed of [1, 2, 3]) {
      assert.deepEqual(
        scanAll(data, randomSizes(seed, 20_000)),
        random1mb.boundaries,
        `random blocks ${seed}`,
      )
    }
    const triggered = triggeringData(5)
    assert.deepEqual(scanAll(triggered, randomSizes(9, 300)), triggering.boundaries[5])
  })

  it('gives no chunk for empty input and one chunk for a short input', () => {
    assert.deepEqual(scanAll(new Uint8Array(0)), [])
    assert.deepEqual(scanAll(new Uint8Array(8191).fill(1)), [8191])
    assert.deepEqual(scanAll(new Uint8Array(1)), [1])
  })

  it('reports absolute offsets across pushes and starts over after finish()', () => {
    const scanner = new ChunkBoundaryScanner()
    assert.deepEqual(scanner.push(new Uint8Array(MAX_CHUNK_SIZE - 1)), [])
    assert.deepEqual(scanner.push(new Uint8Array(MAX_CHUNK_SIZE + 1)), [MAX_CHUNK_SIZE, 2 * MAX_CHUNK_SIZE])
    assert.equal(scanner.openChunkStart, 2 * MAX_CHUNK_SIZE)
    assert.deepEqual(scanner.finish(), [])
    assert.deepEqual(scanner.push(new Uint8Array(10)), [])
    assert.deepEqual(scanner.finish(), [10])
  })
})
