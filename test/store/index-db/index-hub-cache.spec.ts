import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ShardIndex } from '../../../src/store/index-db/shard-index.ts'
import { indexHubCache } from '../../../src/store/index-db/index-hub-cache.ts'
import { readChunk, readChunks } from '../../../src/store/read-chunk.ts'
import { chunkBytes, fileHash, hashToHex, initXet, XetChunker } from '../../../src/store/xet/index.ts'
import { randomCommit, writeFakeRepo } from '../../helpers/fake-cache.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

describe('indexHubCache', () => {
  const tmp = useTmpDir()
  let chunker: XetChunker

  before(async () => {
    await initXet()
    chunker = await XetChunker.create({ workers: 1 })
  })
  after(async () => {
    await chunker.close()
  })

  async function fixture(): Promise<{
    cacheDir: string
    index: ShardIndex
    big: Uint8Array
    etags: Map<string, string>
  }> {
    const cacheDir = join(tmp(), 'hub')
    const big = randomBytes(3 * 1024 * 1024 + 17)
    const etags = await writeFakeRepo(cacheDir, 'models--org--m', randomCommit(), [
      { path: 'model.safetensors', data: big, lfs: true },
      { path: 'config.json', data: Buffer.from('{"a": 1}'), lfs: false },
      { path: 'empty.txt', data: new Uint8Array(0), lfs: false },
      { path: 'sub dir/ünï cødé.txt', data: Buffer.from('unicode names work'), lfs: false },
    ])
    return { cacheDir, index: ShardIndex.open(join(tmp(), 'home', 'index.sqlite')), big, etags }
  }

  it('chunks, hashes and verifies every blob, and serves each chunk from the blob file', async () => {
    const { cacheDir, index, big, etags } = await fixture()
    try {
      const report = await indexHubCache({ cacheDir, index, chunker })
      assert.equal(report.filesSeen, 4)
      assert.equal(report.filesIndexed, 4)
      assert.deepEqual(report.corrupt, [])
      assert.equal(report.bytesHashed, big.byteLength + 8 + 18)

      const etag = etags.get('model.safetensors') as string
      const blob = index.getBlob(etag)
      assert.equal(blob?.kind, 'sha256')
      assert.equal(blob?.size, big.byteLength)
      const expected = await chunkBytes(big)
      assert.equal(hashToHex(blob?.xetHash as Uint8Array), hashToHex(fileHash(expected)))
      const manifest = index.getManifest(etag) ?? []
      assert.deepEqual(
        manifest.map((c) => [hashToHex(c.hash), c.length]),
        expected.map((c) => [hashToHex(c.hash), c.length]),
      )
      for (const c of expected) {
        const bytes = await readChunk({ index, hash: c.hash })
        assert.ok(bytes !== null)
        assert.ok(Buffer.from(bytes).equals(big.subarray(c.offset, c.offset + c.length)))
      }
      assert.equal(index.getBlob(etags.get('config.json') as string)?.kind, 'gitsha1')
      assert.equal(index.getBlob(etags.get('empty.txt') as string)?.size, 0)
    } finally {
      index.close()
    }
  })

  /** The fixture indexed, with the big blob's chunks and where each begins. */
  async function indexedModel(): Promise<
    Awaited<ReturnType<typeof fixture>> & {
      chunks: NonNullable<ReturnType<ShardIndex['getManifest']>>
      offsets: number[]
    }
  > {
    const f = await fixture()
    await indexHubCache({ cacheDir: f.cacheDir, index: f.index, chunker })
    const chunks = f.index.getManifest(f.etags.get('model.safetensors') as string) ?? []
    const offsets: number[] = []
    chunks.reduce((at, c) => (offsets.push(at), at + c.length), 0)
    return { ...f, chunks, offsets }
  }

  it('reads a batch of chunks, neighbours together, in the batch order, with unknown ones null', async () => {
    const { index, big, etags, chunks, offsets } = await indexedModel()
    try {
      // A run, a gap, a chunk out of order, an unknown hash, and the first chunk again.
      const order = [1, 2, 3, 7, 0, -1, 5, 6, 1]
      const hashes = order.map((i) => (i < 0 ? new Uint8Array(32).fill(9) : chunks[i].hash))
      const got = await readChunks({ index, hashes })
      assert.equal(got.length, order.length)
      order.forEach((i, k) => {
        if (i < 0) return assert.equal(got[k], null)
        const want = big.subarray(offsets[i], offsets[i] + chunks[i].length)
        assert.ok(Buffer.from(got[k] as Uint8Array).equals(want), `chunk ${i} at position ${k}`)
      })
      // A blob file changed since it was verified is not read.
      const path = index.verifiedFilesOf(etags.get('model.safetensors') as string)[0].path
      await utimes(path, new Date(), new Date(Date.now() + 5000))
      assert.deepEqual(await readChunks({ index, hashes: hashes.slice(0, 3) }), [null, null, null])
    } finally {
      index.close()
    }
  })

  it('with bytes reserved, reads a batch into one buffer of its own: each chunk after its free bytes, in order', async () => {
    const { index, big, chunks, offsets } = await indexedModel()
    try {
      // A run read scattered over its places, a gap, a chunk out of order, and the first chunk again.
      const order = [1, 2, 3, 7, 0, 1]
      const reserve = (length: number): number => 3 + (length % 3)
      const got = await readChunks({ index, hashes: order.map((i) => chunks[i].hash), reserve })
      const buffer = (got[0] as Uint8Array).buffer
      let end = 0
      order.forEach((i, k) => {
        const chunk = got[k] as Uint8Array
        const want = big.subarray(offsets[i], offsets[i] + chunks[i].length)
        assert.ok(Buffer.from(chunk).equals(want), `chunk ${i} at position ${k}`)
        assert.equal(chunk.buffer, buffer, `chunk ${i} shares the batch's buffer`)
        assert.equal(
          chunk.byteOffset,
          end + reserve(chunk.byteLength),
          `chunk ${i} right after its free bytes`,
        )
        end = chunk.byteOffset + chunk.byteLength
      })
      assert.equal(buffer.byteLength, end, 'the buffer holds the batch and nothing else')
    } finally {
      index.close()
    }
  })

  it('rehashes nothing on a second run over an unchanged cache', async () => {
    const { cacheDir, index } = await fixture()
    try {
      await indexHubCache({ cacheDir, index, chunker })
      const again = await indexHubCache({ cacheDir, index, chunker })
      assert.equal(again.filesUnchanged, 4)
      assert.equal(again.filesIndexed, 0)
      assert.equal(again.bytesHashed, 0)
    } finally {
      index.close()
    }
  })

  it('reports a blob that fails its etag and never serves it', async () => {
    const { cacheDir, index, etags } = await fixture()
    try {
      await indexHubCache({ cacheDir, index, chunker })
      const etag = etags.get('model.safetensors') as string
      const path = join(cacheDir, 'models--org--m', 'blobs', etag)
      const first = (index.getManifest(etag) ?? [])[0]
      // Modified after download: same size, new bytes, new mtime.
      const tampered = randomBytes(3 * 1024 * 1024 + 17)
      await writeFile(path, tampered)
      await utimes(path, new Date(), new Date(Date.now() + 5000))
      assert.equal(await readChunk({ index, hash: first.hash }), null, 'a changed file is not trusted')
      const report = await indexHubCache({ cacheDir, index, chunker })
      assert.equal(report.filesIndexed, 1)
      assert.equal(report.corrupt.length, 1)
      assert.match(report.corrupt[0].error, /not its etag/)
      assert.equal(index.verifiedFilesOf(etag).length, 0)
      assert.equal(await readChunk({ index, hash: first.hash }), null)
      // Still reported, without rehashing, on the next run.
      const again = await indexHubCache({ cacheDir, index, chunker })
      assert.equal(again.bytesHashed, 0)
      assert.equal(again.corrupt.length, 1)
    } finally {
      index.close()
    }
  })

  it('forgets blob files that left the disk', async () => {
    const { cacheDir, index, etags } = await fixture()
    try {
      await indexHubCache({ cacheDir, index, chunker })
      const etag = etags.get('model.safetensors') as string
      const first = (index.getManifest(etag) ?? [])[0]
      await rm(join(cacheDir, 'models--org--m', 'blobs', etag))
      const report = await indexHubCache({ cacheDir, index, chunker })
      assert.equal(report.filesForgotten, 1)
      assert.equal(index.getChunkLocation(first.hash), null)
      assert.equal(await readChunk({ index, hash: first.hash }), null)
    } finally {
      index.close()
    }
  })

  it('keeps going past unreadable entries and a missing blobs folder', async () => {
    const { cacheDir, index } = await fixture()
    try {
      await writeFakeRepo(cacheDir, 'datasets--org--d', randomCommit(), [])
      await rm(join(cacheDir, 'datasets--org--d', 'blobs'), { recursive: true })
      await writeFile(join(cacheDir, 'models--not-a-repo-folder'), 'x')
      const report = await indexHubCache({ cacheDir, index, chunker })
      assert.equal(report.filesIndexed, 4)
    } finally {
      index.close()
    }
  })
})
