import assert from 'node:assert/strict'
import {
  chunkHash,
  fileHash,
  hashToHex,
  hexToHash,
  initXet,
  xorbHash,
  type ChunkRef,
} from '../../../src/store/xet/index.ts'
import { splitmix64Bytes } from './splitmix64.ts'
import { xetVectors } from './vectors.ts'

const { random_1mb_seed0: random1mb, aggregated_hashes: aggregatedCases } = xetVectors.vectors

describe('Xet hashes', () => {
  before(() => initXet())

  it('initXet() is idempotent', async () => {
    await Promise.all([initXet(), initXet()])
  })

  it('hashes chunks with the DATA_KEY (1 MB random vector)', () => {
    const data = splitmix64Bytes(random1mb.n, random1mb.seed)
    let start = 0
    const hashes = random1mb.boundaries.map((end) =>
      hashToHex(chunkHash(data.subarray(start, (start = end)))),
    )
    assert.deepEqual(hashes, random1mb.chunk_hashes)
  })

  it(`computes xorb and file hashes of all ${aggregatedCases.length} aggregated-hash cases`, () => {
    assert.equal(aggregatedCases.length, 18)
    for (const [i, c] of aggregatedCases.entries()) {
      const chunks: ChunkRef[] = c.chunks.map(([hex, length]) => ({
        hash: hexToHash(hex as string),
        length: length as number,
      }))
      assert.equal(
        hashToHex(xorbHash(chunks)),
        c.xorb_hash,
        `xorb hash of case ${i} (${chunks.length} chunks)`,
      )
      assert.equal(hashToHex(fileHash(chunks)), c.file_hash_zero_salt, `file hash of case ${i}`)
    }
  })

  it('returns zeros for no chunks and the chunk hash itself for one', () => {
    assert.deepEqual(xorbHash([]), new Uint8Array(32))
    assert.deepEqual(fileHash([]), new Uint8Array(32))
    const hash = chunkHash(new Uint8Array([1, 2, 3]))
    assert.deepEqual(xorbHash([{ hash, length: 3 }]), hash)
    assert.notEqual(xorbHash([{ hash, length: 3 }]), hash, 'a copy, not the caller’s array')
  })
})
