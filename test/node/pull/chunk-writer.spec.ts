import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { ChunkWriter, type BadChunk } from '../../../src/node/pull/chunk-writer.ts'
import { WriteWorker } from '../../../src/node/pull/write-worker.ts'
import { chunkHash, hashToHex, initXet } from '../../../src/store/xet/index.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

/** Chunk i covers [offsets[i], offsets[i + 1]) of `data`. */
function split(data: Buffer, sizes: number[]): { offsets: number[]; chunks: Buffer[] } {
  const offsets: number[] = []
  const chunks: Buffer[] = []
  let at = 0
  for (const size of sizes) {
    offsets.push(at)
    chunks.push(data.subarray(at, at + size))
    at += size
  }
  return { offsets, chunks }
}

describe('ChunkWriter', () => {
  const tmp = useTmpDir()

  /** A file handle that counts its write calls and writes at most `maxWrite` bytes per call. */
  async function countingFile(
    size: number,
    maxWrite = Infinity,
  ): Promise<{ fh: FileHandle; calls: () => number }> {
    const fh = await open(join(tmp(), 'blob.incomplete'), 'w+')
    await fh.truncate(size)
    let calls = 0
    const write = ((data: Uint8Array, off: number, len: number, pos: number) => {
      calls++
      return fh.write(data, off, Math.min(len, maxWrite), pos)
    }) as FileHandle['write']
    return {
      fh: new Proxy(fh, { get: (t, k) => (k === 'write' ? write : Reflect.get(t, k, t)) }),
      calls: () => calls,
    }
  }

  it('puts interleaved batches of chunks on disk byte for byte, in few writes, each tag once', async () => {
    const sizes = Array.from({ length: 96 }, (_, i) => 40_000 + ((i * 7919) % 50_000))
    const data = randomBytes(sizes.reduce((a, b) => a + b, 0))
    const { offsets, chunks } = split(data, sizes)
    const { fh, calls } = await countingFile(data.byteLength, 300_000) // short writes too
    const written: number[] = []
    const writer = new ChunkWriter(fh, {
      fileSize: data.byteLength,
      runBytes: 1024 * 1024,
      maxRuns: 2,
      onWritten: (tags) => written.push(...tags),
    })
    // Three batches of 32 chunks in flight at once, as the scheduler has them: their chunks interleave.
    await Promise.all(
      [0, 1, 2].map(async (b) => {
        for (let i = b * 32; i < (b + 1) * 32; i++) {
          await writer.write(chunks[i], offsets[i], i)
          await new Promise((r) => setImmediate(r))
        }
      }),
    )
    await writer.flush()
    await fh.close()
    assert.ok((await readFile(join(tmp(), 'blob.incomplete'))).equals(data))
    assert.deepEqual(
      [...written].sort((a, b) => a - b),
      sizes.map((_, i) => i),
    )
    // Chunk by chunk would be 96 calls or more; runs of 1 MiB make it about 15, and when the scheduling of
    // the three batches makes runs give up their buffer early (a busy machine), a few dozen.
    assert.ok(calls() < 64, `${calls()} write calls for ${sizes.length} chunks`)
  })

  it('writes chunks given in the pieces they arrived in, byte for byte', async () => {
    const data = randomBytes(40 * 50_000)
    const { fh } = await countingFile(data.byteLength, 333_333)
    const written: number[] = []
    const writer = new ChunkWriter(fh, {
      fileSize: data.byteLength,
      runBytes: 512 * 1024,
      onWritten: (tags) => written.push(...tags),
    })
    // Each chunk in pieces of 1 to 97 bytes and a large rest; one larger than a run, in pieces too.
    const inPieces = (chunk: Uint8Array, seed: number): Uint8Array[] => {
      const parts: Uint8Array[] = []
      let at = 0
      for (let k = 0; k < 8; k++) {
        const n = 1 + ((seed * 31 + k * 17) % 97)
        parts.push(chunk.subarray(at, at + n))
        at += n
      }
      return [...parts, chunk.subarray(at)]
    }
    for (let c = 0; c < 28; c++)
      await writer.write(inPieces(data.subarray(c * 50_000, (c + 1) * 50_000), c), c * 50_000, c)
    await writer.write(inPieces(data.subarray(28 * 50_000), 28), 28 * 50_000, 28)
    await writer.flush()
    await fh.close()
    assert.ok((await readFile(join(tmp(), 'blob.incomplete'))).equals(data))
    assert.deepEqual(
      [...written].sort((a, b) => a - b),
      Array.from({ length: 29 }, (_, i) => i),
    )
  })

  it('reports a chunk only once its bytes are written, and writes a chunk larger than a run directly', async () => {
    const data = randomBytes(400_000)
    const { offsets, chunks } = split(data, [100_000, 100_000, 200_000])
    const { fh } = await countingFile(data.byteLength)
    const written: number[] = []
    const writer = new ChunkWriter(fh, {
      fileSize: data.byteLength,
      runBytes: 150_000,
      onWritten: (t) => written.push(...t),
    })
    await writer.write(chunks[2], offsets[2], 2)
    assert.deepEqual(written, [2], 'too large for a run: written at once')
    await writer.write(chunks[0], offsets[0], 0)
    assert.deepEqual(written, [2], 'staged, not yet on disk')
    await writer.write(chunks[1], offsets[1], 1)
    assert.deepEqual(written, [2, 0], 'the run it would overflow goes to disk first')
    await writer.flush()
    assert.deepEqual(written, [2, 0, 1])
    await fh.close()
    assert.ok((await readFile(join(tmp(), 'blob.incomplete'))).equals(data))
  })

  it('writes (and so announces) a run that stays open, without waiting for it to fill or a flush', async () => {
    const data = randomBytes(3 * 65536)
    const { fh } = await countingFile(data.byteLength)
    const written: number[] = []
    const writer = new ChunkWriter(fh, {
      fileSize: data.byteLength,
      onWritten: (tags) => written.push(...tags),
      maxRunAgeMs: 50,
    })
    // Two chunks that continue each other, then nothing for a while (a slow peer).
    await writer.write(data.subarray(0, 65536), 0, 0)
    await writer.write(data.subarray(65536, 131072), 65536, 1)
    assert.deepEqual(written, [])
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(written, [0, 1], 'the open run was not written')
    assert.ok(
      Buffer.from(await readFile(join(tmp(), 'blob.incomplete')))
        .subarray(0, 131072)
        .equals(data.subarray(0, 131072)),
    )
    await writer.write(data.subarray(131072), 131072, 2)
    await writer.flush()
    assert.deepEqual(written, [0, 1, 2])
    await fh.close()
  })

  describe('with the hash each chunk must have', () => {
    let worker: WriteWorker
    before(async () => {
      await initXet()
      worker = new WriteWorker()
      assert.equal(await worker.started(), true)
    })
    after(async () => await worker.close())

    for (const where of ['on the write worker', 'on the event loop'])
      it(`checks each chunk as it writes its run, ${where}: a wrong one goes to onBad`, async () => {
        const data = randomBytes(5 * 70_000 + 1234)
        const { offsets, chunks } = split(data, [70_000, 70_000, 70_000, 70_000, 70_000 + 1234])
        const { fh, calls } = await countingFile(data.byteLength)
        const written: number[] = []
        const bad: BadChunk[] = []
        const writer = new ChunkWriter(fh, {
          fileSize: data.byteLength,
          runBytes: 200_000,
          worker: where === 'on the write worker' ? worker : null,
          onWritten: (t) => written.push(...t),
          onBad: (b) => bad.push(...b),
        })
        // Chunk 1 comes with another chunk's hash (as if a peer had sent the wrong bytes); chunk 3 was
        // checked before (no hash): it is not checked again.
        const expected = [chunks[0], chunks[2], chunks[2], null, chunks[4]]
        for (const i of [4, 0, 3, 1, 2]) {
          const want = expected[i]
          await writer.write(chunks[i], offsets[i], i, want === null ? null : chunkHash(want))
        }
        await writer.flush()
        await fh.close()
        assert.deepEqual(
          [...written].sort((a, b) => a - b),
          [0, 2, 3, 4],
        )
        assert.deepEqual(
          bad.map((b) => [b.tag, hashToHex(b.got)]),
          [[1, hashToHex(chunkHash(chunks[1]))]],
        )
        assert.ok((await readFile(join(tmp(), 'blob.incomplete'))).equals(data), 'every run is on disk')
        // Chunk 3 starts a run of its own (runs grow forward), with nothing in it to check: written here.
        if (where === 'on the write worker') assert.equal(calls(), 1, 'the worker wrote the runs it checked')
      })

    it('fails a write that the worker could not make with the system error and its code', async () => {
      const data = randomBytes(3 * 65536)
      const path = join(tmp(), 'read-only')
      await (await open(path, 'w')).close()
      const fh = await open(path, 'r')
      const writer = new ChunkWriter(fh, { fileSize: data.byteLength, worker, onWritten: () => {} })
      await writer.write(data.subarray(0, 65536), 0, 0, chunkHash(data.subarray(0, 65536)))
      await assert.rejects(writer.flush(), { code: 'EBADF' })
      await fh.close()
    })
  })
})
