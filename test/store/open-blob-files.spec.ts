import assert from 'node:assert/strict'
import { stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { OpenBlobFiles } from '../../src/store/open-blob-files.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

describe('OpenBlobFiles', () => {
  const tmp = useTmpDir()

  async function blob(name: string, text: string): Promise<{ path: string; size: number; mtimeMs: number }> {
    const path = join(tmp(), name)
    await writeFile(path, text)
    const st = await stat(path)
    return { path, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) }
  }

  it('keeps a file open across reads, and refuses it once its mtime changed', async () => {
    const files = new OpenBlobFiles({ recheckMs: 0 })
    try {
      const b = await blob('a', 'hello blob')
      const first = await files.acquire(b.path, b.size, b.mtimeMs)
      assert.ok(first !== null)
      first.release()
      const second = await files.acquire(b.path, b.size, b.mtimeMs)
      assert.equal(second?.fh, first.fh, 'the same handle')
      const buf = Buffer.alloc(4)
      await second?.fh.read(buf, 0, 4, 6)
      assert.equal(buf.toString(), 'blob')
      second?.release()
      await utimes(b.path, new Date(), new Date(Date.now() + 5000))
      assert.equal(await files.acquire(b.path, b.size, b.mtimeMs), null, 'a changed file is not handed out')
      assert.equal(await files.acquire(b.path, b.size + 1, b.mtimeMs), null, 'nor one of another size')
      assert.equal(first.fh.fd, -1, 'and its handle was closed')
    } finally {
      await files.close()
    }
  })

  it('closes idle files, and the oldest idle one past maxOpen, never one in use', async () => {
    const files = new OpenBlobFiles({ idleMs: 50, maxOpen: 2 })
    try {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => blob(n, n)))
      const la = await files.acquire(a.path, a.size, a.mtimeMs)
      const lb = await files.acquire(b.path, b.size, b.mtimeMs)
      lb?.release()
      const lc = await files.acquire(c.path, c.size, c.mtimeMs)
      await sleep(10)
      assert.equal(lb?.fh.fd, -1, 'b (idle, oldest) closed when a third file opened')
      assert.notEqual(la?.fh.fd, -1, 'a is in use')
      la?.release()
      lc?.release()
      await sleep(200)
      assert.equal(la?.fh.fd, -1, 'idle files close by themselves')
      assert.equal(lc?.fh.fd, -1)
    } finally {
      await files.close()
    }
  })

  it('hands out nothing after close, and closes a file in use when it is released', async () => {
    const files = new OpenBlobFiles()
    const a = await blob('a', 'x')
    const lease = await files.acquire(a.path, a.size, a.mtimeMs)
    await files.close()
    assert.notEqual(lease?.fh.fd, -1)
    lease?.release()
    await sleep(10)
    assert.equal(lease?.fh.fd, -1)
    assert.equal(await files.acquire(a.path, a.size, a.mtimeMs), null)
  })
})
