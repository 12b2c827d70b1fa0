import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DownloadsInProgress } from '../../../src/node/pull/downloads-in-progress.ts'
import {
  answerFramesInPlace,
  answerHeaderBytes,
  decodeAnswer,
} from '../../../src/protocols/chunks/messages.ts'
import type { BlobManifest } from '../../../src/protocols/sources.ts'
import { chunkBytes, initXet, type ChunkInfo } from '../../../src/store/xet/index.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

describe('DownloadsInProgress: serving chunks of a blob still downloading', () => {
  const tmp = useTmpDir()
  const data = randomBytes(2 * 1024 * 1024)
  let chunks: ChunkInfo[] = []

  before(async () => {
    await initXet()
    chunks = await chunkBytes(data)
  })

  /** A download of `data` whose file holds every byte, with the chunks at `verified` marked. */
  async function downloading(verified: number[]): Promise<DownloadsInProgress> {
    const path = join(tmp(), 'blob.incomplete')
    await writeFile(path, data)
    const manifest: BlobManifest = {
      etag: 'e'.repeat(64),
      size: data.byteLength,
      xetHash: new Uint8Array(32),
      chunks: chunks.map((c) => ({ hash: c.hash, length: c.length })),
    }
    const downloads = new DownloadsInProgress()
    downloads.begin(manifest, path, new Uint8Array(Math.ceil(chunks.length / 8)))
    downloads.mark(manifest.etag, verified)
    return downloads
  }

  const bytesOf = (i: number): Buffer => data.subarray(chunks[i].offset, chunks[i].offset + chunks[i].length)

  it('reads a run of verified chunks into one buffer, each after its frame space: answered without a copy', async () => {
    const downloads = await downloading([3, 4, 5, 6])
    const got = await downloads.readChunks(
      [3, 4, 5, 6].map((i) => chunks[i].hash),
      { reserve: answerHeaderBytes },
    )
    got.forEach((chunk, k) => assert.ok(chunk !== null && bytesOf(3 + k).equals(chunk), `chunk ${3 + k}`))
    const frames = answerFramesInPlace(got)
    assert.ok(frames !== null, 'laid out for the frames to be written in place')
    // Each frame is its length prefix, the status byte and the chunk: they decode to the chunks, in order.
    let at = 0
    for (let k = 0; k < 4; k++) {
      const { length } = chunks[3 + k]
      const header = answerHeaderBytes(length)
      const answer = decodeAnswer(frames.subarray(at + header - 1, at + header + length))
      assert.ok(answer.type === 'chunk' && bytesOf(3 + k).equals(answer.data), `frame ${k}`)
      at += header + length
    }
    assert.equal(at, frames.byteLength)
  })

  it('answers null for a chunk not yet verified, and the bytes of the others (runs split around it)', async () => {
    const downloads = await downloading([0, 1, 3, 7])
    const asked = [0, 1, 2, 3, 7, 1]
    const got = await downloads.readChunks(
      asked.map((i) => chunks[i].hash),
      { reserve: answerHeaderBytes },
    )
    asked.forEach((i, k) => {
      if (i === 2) assert.equal(got[k], null)
      else assert.ok(got[k] !== null && bytesOf(i).equals(got[k]), `chunk ${i} (asked at ${k})`)
    })
    assert.equal(answerFramesInPlace(got), null, 'a missing chunk: framed one by one')
    // Without reserved space: the same bytes.
    const plain = await downloads.readChunks(asked.map((i) => chunks[i].hash))
    asked.forEach((i, k) => assert.ok(i === 2 ? plain[k] === null : bytesOf(i).equals(plain[k]!)))
  })

  it('answers nothing once the download has ended unfinished', async () => {
    const downloads = await downloading([0, 1])
    downloads.end('e'.repeat(64), false)
    assert.deepEqual(await downloads.readChunks([chunks[0].hash, chunks[1].hash]), [null, null])
  })
})
