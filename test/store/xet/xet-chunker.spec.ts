import assert from 'node:assert/strict'
import { chunkBytes, hashToHex, initXet, XetChunker, type ChunkInfo } from '../../../src/store/xet/index.ts'
import { chunkInBlocks, expectedChunks, randomSizes } from './chunk-helpers.ts'
import { splitmix64Bytes } from './splitmix64.ts'
import { endsOf, triggeringData, xetVectors } from './vectors.ts'

const { random_1mb_seed0: random1mb } = xetVectors.vectors

/** Random, constant and 'triggering' data back to back: gear cuts, forced cuts and ignored matches. */
function mixedData(): Uint8Array {
  const parts = [
    splitmix64Bytes(3 << 20, 11),
    new Uint8Array(400_000).fill(59),
    triggeringData(24),
    triggeringData(1),
  ]
  const data = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  let at = 0
  for (const part of parts) {
    data.set(part, at)
    at += part.length
  }
  return data
}

describe('XetChunker', () => {
  const random = splitmix64Bytes(random1mb.n, random1mb.seed)
  const mixed = mixedData()
  let expectedMixed: ChunkInfo[]

  before(async () => {
    await initXet()
    expectedMixed = expectedChunks(mixed)
  })

  for (const workers of [0, 2]) {
    describe(`with workers: ${workers}`, () => {
      let chunker: XetChunker
      beforeEach(async () => {
        chunker = await XetChunker.create({ workers })
      })
      afterEach(() => chunker.close())

      it('chunks and hashes the 1 MB random vector', async () => {
        const chunks = [...(await chunker.push(random)), ...(await chunker.finish())]
        assert.deepEqual(endsOf(chunks), random1mb.boundaries)
        assert.deepEqual(
          chunks.map((c) => hashToHex(c.hash)),
          random1mb.chunk_hashes,
        )
        assert.deepEqual(
          chunks.map((c) => c.offset),
          [0, ...random1mb.boundaries.slice(0, -1)],
        )
      })

      it('gives the same chunks whatever the push sizes', async () => {
        for (const blockSize of [() => 37, () => 255, randomSizes(4, 100_000), () => 3 << 20]) {
          chunker.reset()
          assert.deepEqual(await chunkInBlocks(chunker, mixed, blockSize), expectedMixed)
        }
      })

      it('gives the same chunks when fed one byte at a time', async () => {
        const small = splitmix64Bytes(256_000, 1)
        assert.deepEqual(await chunkInBlocks(chunker, small, () => 1), expectedChunks(small))
      })

      it('gives no chunk for empty input', async () => {
        assert.deepEqual(await chunker.push(new Uint8Array(0)), [])
        assert.deepEqual(await chunker.finish(), [])
      })

      it('needs reset() between files', async () => {
        await chunker.push(random)
        await chunker.finish()
        await assert.rejects(chunker.push(random), { name: 'XetChunkerStateError' })
        chunker.reset()
        const again = [...(await chunker.push(random)), ...(await chunker.finish())]
        assert.deepEqual(endsOf(again), random1mb.boundaries)
      })

      it('drops a file in progress on reset()', async () => {
        await chunker.push(mixed.subarray(0, 500_000))
        chunker.reset()
        assert.deepEqual(await chunkInBlocks(chunker, random, () => 70_000), expectedChunks(random))
      })

      it('rejects an aborted push and stays unusable until reset()', async () => {
        const controller = new AbortController()
        controller.abort()
        await assert.rejects(chunker.push(random, controller.signal), { name: 'AbortError' })
        await assert.rejects(chunker.push(random), { name: 'XetChunkerStateError' })
        chunker.reset()
        assert.deepEqual(
          endsOf([...(await chunker.push(random)), ...(await chunker.finish())]),
          random1mb.boundaries,
        )
      })

      it('refuses a second call while one is pending', async () => {
        const first = chunker.push(random)
        await assert.rejects(chunker.push(random), { name: 'XetChunkerStateError' })
        await first
      })

      it('can be closed twice and refuses work afterwards', async () => {
        await chunker.close()
        await chunker.close()
        await assert.rejects(chunker.push(random), { name: 'XetChunkerStateError' })
        assert.throws(() => chunker.reset(), { name: 'XetChunkerStateError' })
      })
    })
  }

  it('gives identical results with 0 and 2 workers on 24 MiB', async () => {
    const big = splitmix64Bytes(24 << 20, 5)
    const results: ChunkInfo[][] = []
    for (const workers of [0, 2]) {
      const chunker = await XetChunker.create({ workers })
      try {
        results.push(await chunkInBlocks(chunker, big, randomSizes(workers + 1, 4 << 20)))
      } finally {
        await chunker.close()
      }
    }
    assert.ok(results[0].length > 300)
    assert.deepEqual(results[1], results[0])
  })

  it('chunks data read into its input buffer in place (no workers) like data pushed from elsewhere', async () => {
    const chunker = await XetChunker.create({ workers: 0 })
    const pooled = await XetChunker.create({ workers: 2 })
    try {
      assert.equal(pooled.input, null)
      const input = chunker.input
      assert.ok(input !== null && input.length >= 64 * 1024)
      const sizes = randomSizes(7, input.length)
      const chunks: ChunkInfo[] = []
      for (let at = 0; at < mixed.length;) {
        const n = Math.min(sizes(), mixed.length - at)
        input.set(mixed.subarray(at, at + n))
        chunks.push(...(await chunker.push(input.subarray(0, n))))
        at += n
      }
      chunks.push(...(await chunker.finish()))
      assert.deepEqual(chunks, expectedMixed)
    } finally {
      await chunker.close()
      await pooled.close()
    }
  })

  it('rejects a bad worker count', async () => {
    await assert.rejects(XetChunker.create({ workers: -1 }), RangeError)
    await assert.rejects(XetChunker.create({ workers: 1.5 }), RangeError)
  })
})

describe('chunkBytes', () => {
  before(() => initXet())

  it('chunks a small buffer', async () => {
    assert.deepEqual(await chunkBytes(mixedData()), expectedChunks(mixedData()))
    assert.deepEqual(await chunkBytes(new Uint8Array(0)), [])
  })

  it('chunks a buffer large enough for workers', async () => {
    const data = splitmix64Bytes(20 << 20, 3)
    assert.deepEqual(await chunkBytes(data), expectedChunks(data))
  })
})
