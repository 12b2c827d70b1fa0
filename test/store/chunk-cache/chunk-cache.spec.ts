import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ChunkCache } from '../../../src/store/chunk-cache/chunk-cache.ts'
import { chunkHash, hashToHex, initXet } from '../../../src/store/xet/index.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

function chunk(size: number): { hash: Uint8Array; data: Uint8Array } {
  const data = randomBytes(size)
  return { hash: chunkHash(data), data }
}

describe('ChunkCache', () => {
  const tmp = useTmpDir()
  before(async () => {
    await initXet()
  })

  it('returns exactly the bytes put, and survives a reopen', async () => {
    const dir = join(tmp(), 'chunks')
    const cache = await ChunkCache.open({ dir, limitBytes: 1_000_000 })
    const a = chunk(1000)
    assert.equal(await cache.put(a.hash, a.data), true)
    assert.ok(Buffer.from((await cache.get(a.hash)) as Uint8Array).equals(a.data))
    const reopened = await ChunkCache.open({ dir, limitBytes: 1_000_000 })
    assert.equal(reopened.count, 1)
    assert.equal(reopened.totalBytes, 1000)
    assert.ok(reopened.has(a.hash))
  })

  it('evicts at random to stay under its limit', async () => {
    const cache = await ChunkCache.open({ dir: join(tmp(), 'chunks'), limitBytes: 10_000 })
    const all = Array.from({ length: 30 }, () => chunk(1000))
    for (const c of all) await cache.put(c.hash, c.data)
    assert.ok(cache.totalBytes <= 10_000)
    assert.equal(cache.count, 10)
    const last = all[all.length - 1]
    assert.ok(cache.has(last.hash), 'the newest item is never the one evicted')
    let files = 0
    for (const sub of await readdir(join(tmp(), 'chunks')))
      files += (await readdir(join(tmp(), 'chunks', sub))).length
    assert.equal(files, 10)
  })

  it('refuses a chunk bigger than the whole cache; 0 disables it', async () => {
    const cache = await ChunkCache.open({ dir: join(tmp(), 'chunks'), limitBytes: 0 })
    const a = chunk(10)
    assert.equal(await cache.put(a.hash, a.data), false)
    assert.equal(await cache.get(a.hash), null)
  })

  it('drops a chunk file whose bytes no longer match, and cleans temp files left by a crash', async () => {
    const dir = join(tmp(), 'chunks')
    const cache = await ChunkCache.open({ dir, limitBytes: 1_000_000 })
    const a = chunk(500)
    await cache.put(a.hash, a.data)
    const key = hashToHex(a.hash)
    await writeFile(join(dir, key.slice(0, 2), key), randomBytes(500))
    await writeFile(join(dir, key.slice(0, 2), `${key}.deadbeef.tmp`), randomBytes(10))
    assert.equal(await cache.get(a.hash), null)
    assert.equal(cache.has(a.hash), false)
    const reopened = await ChunkCache.open({ dir, limitBytes: 1_000_000 })
    assert.equal(reopened.count, 0)
    assert.deepEqual(await readdir(join(dir, key.slice(0, 2))), [])
  })
})
