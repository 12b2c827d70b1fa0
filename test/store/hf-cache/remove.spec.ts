import assert from 'node:assert/strict'
import { lstat, readdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  incompleteBlobPath,
  linkSnapshotFile,
  markNoExist,
  removeSnapshotFiles,
  repoDir,
  scanHubCache,
  snapshotDir,
  writeBlob,
  writeRef,
} from '../../../src/store/hf-cache/index.ts'
import type { RepoRef } from '../../../src/store/hf-cache/index.ts'
import { commitOf, gitBlobSha1, sha256Hex, snapshotTree, useTempDir } from './helpers.ts'

const repo: RepoRef = { type: 'model', id: 'org/model' }
const [c1, c2] = [commitOf('r1'), commitOf('r2')]
const readme = new TextEncoder().encode('shared readme')
const w1 = new Uint8Array(5000).fill(1)
const w2 = new Uint8Array(7000).fill(2)
const shared = new Uint8Array(300).fill(3)
const copied = 'a file copied into the snapshot, not linked'

async function build(cache: string): Promise<void> {
  const blobs: [Uint8Array, string][] = [
    [readme, gitBlobSha1(readme)],
    [w1, sha256Hex(w1)],
    [w2, sha256Hex(w2)],
    [shared, gitBlobSha1(shared)],
  ]
  for (const [bytes, etag] of blobs) await writeBlob(cache, repo, etag, bytes)
  await linkSnapshotFile(cache, repo, c1, 'README.md', gitBlobSha1(readme))
  await linkSnapshotFile(cache, repo, c1, 'weights.bin', sha256Hex(w1))
  await linkSnapshotFile(cache, repo, c1, 'sub/a.bin', gitBlobSha1(shared))
  await writeFile(join(snapshotDir(cache, repo, c1), 'copied.txt'), copied)
  await linkSnapshotFile(cache, repo, c2, 'README.md', gitBlobSha1(readme))
  await linkSnapshotFile(cache, repo, c2, 'weights.bin', sha256Hex(w2))
  await linkSnapshotFile(cache, repo, c2, 'other/a.bin', gitBlobSha1(shared))
  await writeRef(cache, repo, 'main', c2)
  await writeRef(cache, repo, 'v1', c1)
  await writeRef(cache, repo, 'refs/pr/3', c1)
  await markNoExist(cache, repo, c1, 'nope.txt')
}

describe('hf-cache removeSnapshotFiles', () => {
  const tmp = useTempDir()

  it('removes a revision, keeps blobs other revisions link to, and drops its refs', async () => {
    const cache = tmp.path
    await build(cache)
    const freed = await removeSnapshotFiles(cache, repo, c1)
    assert.equal(freed, w1.length + copied.length)

    const folder = repoDir(cache, repo)
    assert.deepEqual((await readdir(join(folder, 'snapshots'))).sort(), [c2])
    assert.deepEqual((await readdir(join(folder, 'refs'))).sort(), ['main'])
    assert.deepEqual(await readdir(join(folder, '.no_exist')), [])
    assert.deepEqual(
      (await readdir(join(folder, 'blobs'))).sort(),
      [gitBlobSha1(readme), sha256Hex(w2), gitBlobSha1(shared)].sort(),
    )
    const scan = await scanHubCache(cache)
    assert.deepEqual(scan.warnings, [])
    assert.equal(scan.repos[0].size, readme.length + w2.length + shared.length)
    assert.deepEqual(scan.repos[0].refs, { main: c2 })
  })

  it('removes single files and folders, freeing a blob only with its last link', async () => {
    const cache = tmp.path
    await build(cache)
    assert.equal(await removeSnapshotFiles(cache, repo, c2, ['README.md']), 0)
    assert.equal(await removeSnapshotFiles(cache, repo, c2, ['other']), 0)
    await assert.rejects(lstat(join(snapshotDir(cache, repo, c2), 'other')), { code: 'ENOENT' })
    assert.equal(await removeSnapshotFiles(cache, repo, c2, ['not/there.txt']), 0)
    assert.equal(await removeSnapshotFiles(cache, repo, c2, ['weights.bin']), w2.length)
    // The revision emptied out: its folder and the ref to it are gone, the repo stays.
    const folder = repoDir(cache, repo)
    assert.deepEqual(await readdir(join(folder, 'snapshots')), [c1])
    assert.deepEqual((await readdir(join(folder, 'refs'))).sort(), ['refs', 'v1'])
    assert.equal(await removeSnapshotFiles(cache, repo, c1, ['sub/a.bin']), shared.length)
    assert.equal(await removeSnapshotFiles(cache, repo, c1, ['copied.txt']), copied.length)
    assert.deepEqual((await scanHubCache(cache)).warnings, [])
  })

  it('removes a broken link by name', async () => {
    const cache = tmp.path
    await build(cache)
    const dangling = join(snapshotDir(cache, repo, c1), 'dangling.bin')
    await symlink(`../../blobs/${'d'.repeat(64)}`, dangling)
    assert.equal(await removeSnapshotFiles(cache, repo, c1, ['dangling.bin']), 0)
    await assert.rejects(lstat(dangling), { code: 'ENOENT' })
  })

  it('removes the whole repo with its last revision, counting orphan blobs', async () => {
    const cache = tmp.path
    await build(cache)
    const orphan = new Uint8Array(123)
    await writeBlob(cache, repo, sha256Hex(orphan), orphan)
    const first = await removeSnapshotFiles(cache, repo, c1)
    const second = await removeSnapshotFiles(cache, repo, c2)
    assert.equal(
      first + second,
      readme.length + w1.length + w2.length + shared.length + copied.length + orphan.length,
    )
    assert.deepEqual((await readdir(cache)).sort(), ['CACHEDIR.TAG'])
  })

  it('keeps the repo folder while a download is in progress', async () => {
    const cache = tmp.path
    await build(cache)
    await writeFile(incompleteBlobPath(cache, repo, 'e'.repeat(64)), 'partial')
    await removeSnapshotFiles(cache, repo, c1)
    await removeSnapshotFiles(cache, repo, c2)
    assert.deepEqual(await readdir(join(repoDir(cache, repo), 'blobs')), [`${'e'.repeat(64)}.incomplete`])
    assert.deepEqual(await readdir(join(repoDir(cache, repo), 'snapshots')), [])
  })

  it('does nothing for an unknown revision or repo', async () => {
    const cache = tmp.path
    await build(cache)
    const before = await snapshotTree(cache)
    assert.equal(await removeSnapshotFiles(cache, repo, commitOf('unknown')), 0)
    assert.equal(await removeSnapshotFiles(cache, { type: 'dataset', id: 'org/model' }, c1), 0)
    assert.deepEqual(await snapshotTree(cache), before)
  })
})
