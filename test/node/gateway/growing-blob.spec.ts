import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { BlobPull } from '../../../src/node/gateway/blob-pulls.ts'
import { GrowingBlob } from '../../../src/node/gateway/growing-blob.ts'
import { planParts, progressPath, saveProgress } from '../../../src/protocols/hub/download-progress.ts'
import { blobPath, incompleteBlobPath } from '../../../src/store/hf-cache/index.ts'
import { chunkBytes, fileHash, type ChunkInfo } from '../../../src/store/xet/index.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

const repo = { type: 'model' as const, id: 'org/m' }

/** A pull driven by the test: it writes the file, and says when it made progress. */
function fakePull(etag: string, size: number): BlobPull & { notify(): void } {
  let waiters: (() => void)[] = []
  return {
    repo,
    etag,
    size,
    startedAt: Date.now(),
    state: 'running',
    error: null,
    manifest: null,
    changed: () => new Promise<void>((resolve) => waiters.push(resolve)),
    notify() {
      const w = waiters
      waiters = []
      for (const f of w) f()
    },
  }
}

async function readAll(blob: GrowingBlob, from: number, size: number): Promise<Buffer> {
  const parts: Uint8Array[] = []
  const signal = AbortSignal.timeout(20_000)
  for (let pos = from; pos < size;) {
    const piece = await blob.read(pos, size - pos, signal)
    parts.push(Buffer.from(piece))
    pos += piece.byteLength
  }
  return Buffer.concat(parts)
}

describe('gateway: reading a blob while it is pulled', function () {
  this.timeout(30_000)
  const tmp = useTmpDir()

  it('hands out only chunks whose bytes hash right, whatever order they land in, then the finished blob', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 123)
    const etag = createHash('sha256').update(data).digest('hex')
    const cacheDir = join(tmp(), 'hub')
    const chunks: ChunkInfo[] = await chunkBytes(data)
    const pull = fakePull(etag, data.byteLength)
    const incomplete = incompleteBlobPath(cacheDir, repo, etag)
    await mkdir(dirname(incomplete), { recursive: true })
    const fh = await open(incomplete, 'w+')
    await fh.truncate(data.byteLength)
    pull.manifest = { etag, size: data.byteLength, xetHash: fileHash(chunks), chunks }

    const blob = new GrowingBlob({ cacheDir, home: join(tmp(), 'home'), pull })
    const tailBlob = new GrowingBlob({ cacheDir, home: join(tmp(), 'home'), pull })
    const middle = chunks[Math.floor(chunks.length / 2)].offset + 7
    const reading = Promise.all([
      readAll(blob, 0, data.byteLength),
      readAll(tailBlob, middle, data.byteLength),
    ])
    // Chunks land back to front, one at a time; a half-written chunk sits there for a while.
    for (const c of [...chunks].reverse()) {
      await fh.write(data, c.offset, Math.floor(c.length / 2), c.offset)
      pull.notify()
      await new Promise((r) => setTimeout(r, 2))
      await fh.write(
        data,
        c.offset + Math.floor(c.length / 2),
        c.length - Math.floor(c.length / 2),
        c.offset + Math.floor(c.length / 2),
      )
      pull.notify()
    }
    await fh.close()
    const [whole, tail] = await reading
    assert.ok(whole.equals(data))
    assert.ok(tail.equals(data.subarray(middle)))
    await blob.close()
    await tailBlob.close()
  })

  it('on the upstream path follows the written prefix of the resume file, then the renamed blob', async () => {
    const data = randomBytes(2 * 1024 * 1024)
    const etag = createHash('sha256').update(data).digest('hex')
    const cacheDir = join(tmp(), 'hub')
    const home = join(tmp(), 'home')
    const pull = fakePull(etag, data.byteLength)
    const incomplete = incompleteBlobPath(cacheDir, repo, etag)
    await mkdir(dirname(incomplete), { recursive: true })
    const fh = await open(incomplete, 'w+')
    const plan = planParts(etag, data.byteLength, 512 * 1024)
    await saveProgress(progressPath(home, etag), plan)
    const blob = new GrowingBlob({ cacheDir, home, pull })
    const reading = readAll(blob, 0, data.byteLength)
    // Parts 1 and 0 written; part 2 half; then the download finishes and renames the file.
    for (const [i, n] of [
      [1, 512 * 1024],
      [0, 512 * 1024],
      [2, 256 * 1024],
    ] as const) {
      await fh.write(data, i * plan.partSize, n, i * plan.partSize)
      plan.written[i] = n
      await saveProgress(progressPath(home, etag), plan)
      pull.notify()
      await new Promise((r) => setTimeout(r, 20))
    }
    await fh.write(
      data,
      2 * plan.partSize + 256 * 1024,
      data.byteLength - 2 * plan.partSize - 256 * 1024,
      2 * plan.partSize + 256 * 1024,
    )
    await fh.close()
    await rename(incomplete, blobPath(cacheDir, repo, etag))
    pull.state = 'done'
    pull.notify()
    assert.ok((await reading).equals(data))
    await blob.close()
  })

  it('passes on the pull failure, and ignores a resume file older than the pull', async () => {
    const data = randomBytes(100_000)
    const etag = createHash('sha256').update(data).digest('hex')
    const cacheDir = join(tmp(), 'hub')
    const home = join(tmp(), 'home')
    const incomplete = incompleteBlobPath(cacheDir, repo, etag)
    await mkdir(dirname(incomplete), { recursive: true })
    await writeFile(incomplete, Buffer.alloc(data.byteLength))
    const stale = planParts(etag, data.byteLength, 1 << 20)
    stale.written[0] = data.byteLength
    await saveProgress(progressPath(home, etag), stale)
    // Older than the pull by well over the 20 ms that GrowingBlob allows a file time to lag (waiting exactly
    // 20 ms, a coarse file clock or an early timer made the stale file count now and then).
    await new Promise((r) => setTimeout(r, 100))
    const pull = fakePull(etag, data.byteLength)
    const blob = new GrowingBlob({ cacheDir, home, pull })
    const reading = blob.read(0, 10, AbortSignal.timeout(5000))
    setTimeout(() => {
      pull.state = 'failed'
      pull.error = Object.assign(new Error('no peer has it'), { name: 'OfflineError' })
      pull.notify()
    }, 300)
    await assert.rejects(reading, { name: 'OfflineError' })
    await blob.close()
  })
})
