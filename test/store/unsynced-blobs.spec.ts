import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { blobPath, commitBlob, incompleteBlobPath, type RepoRef } from '../../src/store/hf-cache/index.ts'
import { bootId, describeSettled, settleUnsyncedBlobs, unsyncedDir } from '../../src/store/unsynced-blobs.ts'
import { gitBlobSha1, sha256Hex, useTempDir } from './hf-cache/helpers.ts'

const repo: RepoRef = { type: 'model', id: 'org/unsynced' }

describe('blobs committed before they are flushed', () => {
  const tmp = useTempDir()
  const cacheOf = (): string => join(tmp.path, 'hub')
  const homeOf = (): string => join(tmp.path, 'home')

  /** Commits `bytes` under their etag with the flush deferred; returns the blob path. */
  async function commitDeferred(bytes: Uint8Array, etag = sha256Hex(bytes)): Promise<string> {
    const from = incompleteBlobPath(cacheOf(), repo, etag)
    await mkdir(join(from, '..'), { recursive: true })
    await writeFile(from, bytes)
    return commitBlob(cacheOf(), repo, etag, from, { deferFlushIn: homeOf() })
  }

  async function markers(): Promise<{ name: string; blob: string; boot: string }[]> {
    const dir = unsyncedDir(homeOf())
    const names = await readdir(dir).catch(() => [] as string[])
    return Promise.all(
      names.map(async (name) => ({
        name,
        ...(JSON.parse(await readFile(join(dir, name), 'utf8')) as { blob: string; boot: string }),
      })),
    )
  }

  /** Makes every marker look as if written in an earlier boot of the machine. */
  async function fromEarlierBoot(): Promise<void> {
    for (const m of await markers()) {
      await writeFile(join(unsyncedDir(homeOf()), m.name), JSON.stringify({ blob: m.blob, boot: 'earlier' }))
    }
  }

  it('puts the blob in place with a marker naming it and this boot, which a later settle flushes and drops', async () => {
    const bytes = new Uint8Array(300_000).fill(7)
    const blob = await commitDeferred(bytes)
    assert.equal(blob, blobPath(cacheOf(), repo, sha256Hex(bytes)))
    assert.deepEqual(new Uint8Array(await readFile(blob)), bytes)
    assert.deepEqual(
      (await markers()).map((m) => [m.blob, m.boot]),
      [[blob, await bootId()]],
    )

    // Fresh: left for the kernel to write back first.
    assert.deepEqual(await settleUnsyncedBlobs(homeOf()), { synced: 0, verified: 0, removed: [] })
    assert.equal((await markers()).length, 1)

    const old = new Date(Date.now() - 120_000)
    for (const m of await markers()) await utimes(join(unsyncedDir(homeOf()), m.name), old, old)
    assert.deepEqual(await settleUnsyncedBlobs(homeOf()), { synced: 1, verified: 0, removed: [] })
    assert.deepEqual(await markers(), [])
    assert.deepEqual(new Uint8Array(await readFile(blob)), bytes)
  })

  it('after the machine went down, hashes the blobs again: keeps the whole ones, deletes the others', async () => {
    const whole = new Uint8Array(200_000).fill(1)
    const torn = new Uint8Array(200_000).fill(2)
    const small = new TextEncoder().encode('{"model_type": "bert"}\n')
    const wholeBlob = await commitDeferred(whole)
    const tornBlob = await commitDeferred(torn)
    const smallBlob = await commitDeferred(small, gitBlobSha1(small))
    // What a power cut leaves of data never written back: zeros where the bytes were.
    await writeFile(tornBlob, new Uint8Array(200_000))
    await fromEarlierBoot()

    const result = await settleUnsyncedBlobs(homeOf())
    assert.deepEqual(result, { synced: 0, verified: 2, removed: [tornBlob] })
    assert.deepEqual(describeSettled(result), [
      `${tornBlob} was not whole after the machine went down; deleted it, to be downloaded again`,
    ])
    await assert.rejects(stat(tornBlob), { code: 'ENOENT' })
    assert.deepEqual(new Uint8Array(await readFile(wholeBlob)), whole)
    assert.deepEqual(new Uint8Array(await readFile(smallBlob)), small)
    assert.deepEqual(await markers(), [])
  })

  it('drops markers that name no blob, or anything but a blob, and touches nothing else', async () => {
    const dir = unsyncedDir(homeOf())
    await mkdir(dir, { recursive: true })
    const victim = join(tmp.path, 'victim')
    await writeFile(victim, 'not a blob')
    const etagLike = '0'.repeat(64)
    await writeFile(join(dir, 'a.json'), JSON.stringify({ blob: victim, boot: 'earlier' }))
    await writeFile(
      join(dir, 'b.json'),
      JSON.stringify({ blob: join(tmp.path, 'x', 'blobs', etagLike), boot: 'e' }),
    )
    await writeFile(join(dir, 'c.json'), JSON.stringify({ blob: `blobs/${etagLike}`, boot: 'earlier' }))
    await writeFile(join(dir, 'd.json'), '{"blob": ')
    await writeFile(
      join(dir, 'e.json'),
      JSON.stringify({ blob: join(tmp.path, 'blobs', 'notanetag'), boot: 'e' }),
    )

    assert.deepEqual(await settleUnsyncedBlobs(homeOf()), { synced: 0, verified: 0, removed: [] })
    assert.deepEqual(await readdir(dir), [])
    assert.equal(await readFile(victim, 'utf8'), 'not a blob')
  })

  it('commits without a marker, flushing first, when no home is given', async () => {
    const bytes = new Uint8Array(1000).fill(3)
    const from = incompleteBlobPath(cacheOf(), repo, sha256Hex(bytes))
    await mkdir(join(from, '..'), { recursive: true })
    await writeFile(from, bytes)
    await commitBlob(cacheOf(), repo, sha256Hex(bytes), from)
    assert.deepEqual(await markers(), [])
    assert.deepEqual(await settleUnsyncedBlobs(homeOf()), { synced: 0, verified: 0, removed: [] })
  })
})
