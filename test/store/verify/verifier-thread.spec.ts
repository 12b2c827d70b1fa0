import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { appendFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { VerifierThread } from '../../../src/store/verify/blob-verifier.ts'
import { chunkBytes, initXet } from '../../../src/store/xet/index.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'
import { splitmix64Bytes } from '../xet/splitmix64.ts'

describe('VerifierThread', function () {
  this.timeout(20_000)
  const tmp = useTmpDir()
  before(() => initXet())

  it('verifies two blobs at once, each written in steps, on one thread', async () => {
    const a = splitmix64Bytes(5 << 20, 3)
    const b = splitmix64Bytes(3 << 20, 4)
    const thread = new VerifierThread()
    try {
      const [va, vb] = [thread.verifier(), thread.verifier()]
      const pa = join(tmp(), 'a')
      const pb = join(tmp(), 'b')
      await writeFile(pa, '')
      await writeFile(pb, '')
      va.begin(pa, 'sha256', a.length)
      vb.begin(pb, 'sha256', b.length, { etag: false })
      // The two files grow in turns, as two downloads would write them.
      const step = 1 << 20
      for (let at = 0; at < a.length; at += step) {
        await appendFile(pa, a.subarray(at, at + step))
        va.advance(Math.min(a.length, at + step))
        if (at < b.length) {
          await appendFile(pb, b.subarray(at, at + step))
          vb.advance(Math.min(b.length, at + step))
        }
      }
      const [ra, rb] = await Promise.all([va.finish(), vb.finish()])
      assert.equal(ra.etag, createHash('sha256').update(a).digest('hex'))
      assert.deepEqual(ra.chunks, await chunkBytes(a))
      assert.equal(rb.etag, '')
      assert.deepEqual(rb.chunks, await chunkBytes(b))

      // A handle is reused for the next blob.
      const c = splitmix64Bytes(200_000, 5)
      const pc = join(tmp(), 'c')
      await writeFile(pc, c)
      va.begin(pc, 'sha256', c.length)
      va.advance(c.length)
      assert.deepEqual((await va.finish()).chunks, await chunkBytes(c))
    } finally {
      await thread.close()
    }
  })

  it('fails one job without the others: a missing file, a file shorter than said', async () => {
    const thread = new VerifierThread()
    try {
      const [good, missing, short] = [thread.verifier(), thread.verifier(), thread.verifier()]
      const data = splitmix64Bytes(300_000, 6)
      const pg = join(tmp(), 'good')
      const ps = join(tmp(), 'short')
      await writeFile(pg, data)
      await writeFile(ps, data.subarray(0, 1000))
      missing.begin(join(tmp(), 'nope'), 'sha256', 10)
      good.begin(pg, 'sha256', data.length)
      short.begin(ps, 'sha256', data.length)
      missing.advance(10)
      short.advance(data.length)
      good.advance(data.length)
      await assert.rejects(missing.finish(), { name: 'VerifierError', message: /ENOENT/ })
      await assert.rejects(short.finish(), { name: 'VerifierError', message: /ended at 1000 bytes/ })
      assert.deepEqual((await good.finish()).chunks, await chunkBytes(data))
      await assert.rejects(thread.verifier().finish(), { name: 'VerifierError', message: /before begin/ })
    } finally {
      await thread.close()
    }
  })
})
