import assert from 'node:assert/strict'
import { initXet } from '../../../src/store/xet/index.ts'
import { PooledChunkPipeline } from '../../../src/store/xet/pooled-pipeline.ts'
import { chunkInBlocks, expectedChunks, randomSizes } from './chunk-helpers.ts'
import { splitmix64Bytes } from './splitmix64.ts'

describe('PooledChunkPipeline with tiny slabs', () => {
  // Two slabs of two max-size chunks: the ring wraps and the open chunk moves slab every few chunks.
  const init = { workers: 2, slabBytes: 256 << 10, slabs: 2, batchBytes: 64 << 10 }
  const data = new Uint8Array(3 << 20)
  data.set(splitmix64Bytes(2 << 20, 21))
  data.fill(59, 2 << 20)
  let pipeline: PooledChunkPipeline

  before(async () => {
    await initXet()
    pipeline = await PooledChunkPipeline.start(init)
  })
  after(() => pipeline.close())

  it('gives the simple result for pushes smaller and larger than a slab', async () => {
    const expected = expectedChunks(data)
    for (const blockSize of [() => 1000, () => 1 << 20, randomSizes(8, 600_000)]) {
      assert.deepEqual(await chunkInBlocks(pipeline, data, blockSize), expected)
    }
  })

  it('rejects a push aborted while it waits for a slab, and works again after reset()', async () => {
    const controller = new AbortController()
    const pushing = pipeline.push(data, controller.signal)
    controller.abort()
    await assert.rejects(pushing, { name: 'AbortError' })
    pipeline.reset()
    assert.deepEqual(await chunkInBlocks(pipeline, data, () => 100_000), expectedChunks(data))
  })

  it('rejects slabs too small for two chunks', async () => {
    await assert.rejects(PooledChunkPipeline.start({ ...init, slabBytes: 1000 }), RangeError)
  })
})

describe('PooledChunkPipeline when a worker dies', () => {
  before(() => initXet())

  it('rejects with XetWorkerError', async () => {
    const workerUrl = new URL('./fixtures/exiting-worker.ts', import.meta.url)
    const pipeline = await PooledChunkPipeline.start({ workers: 1, workerUrl })
    try {
      await pipeline.push(splitmix64Bytes(1 << 20, 2))
      await assert.rejects(pipeline.finish(), { name: 'XetWorkerError', message: /exited with code 3/ })
    } finally {
      await pipeline.close()
    }
  })

  it('rejects a push that waits for a slab', async () => {
    const workerUrl = new URL('./fixtures/exiting-worker.ts', import.meta.url)
    const pipeline = await PooledChunkPipeline.start({
      workers: 1,
      workerUrl,
      slabBytes: 256 << 10,
      slabs: 2,
    })
    try {
      await assert.rejects(pipeline.push(splitmix64Bytes(2 << 20, 2)), { name: 'XetWorkerError' })
    } finally {
      await pipeline.close()
    }
  })
})
