import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  linkSnapshotFile,
  markNoExist,
  noExistPath,
  removeSnapshotFiles,
  snapshotPath,
  validateRepoFilePath,
  writeBlob,
} from '../../../src/store/hf-cache/index.ts'
import type { RepoRef } from '../../../src/store/hf-cache/index.ts'
import { commitOf, gitBlobSha1, snapshotTree, useTempDir } from './helpers.ts'

const HOSTILE = [
  '',
  '../../x',
  '..',
  '.',
  '/etc/x',
  '/',
  'a\\b',
  '..\\..\\x',
  'a\0b',
  'a//b',
  './a',
  'a/./b',
  'a/../b',
  'a/',
  'a/..',
  'line\nbreak',
  'x'.repeat(256),
  `${'d/'.repeat(600)}f`,
]

describe('hf-cache path safety', () => {
  const tmp = useTempDir()
  const repo: RepoRef = { type: 'dataset', id: 'org/data' }
  const commit = commitOf('safe')

  it('accepts ordinary Hub paths unchanged', () => {
    for (const p of [
      'README.md',
      'a/b/c.bin',
      '.gitattributes',
      'dir with space/ünïcødé 文件.txt',
      '..a',
      'a..',
      '...',
    ]) {
      assert.equal(validateRepoFilePath(p), p)
    }
  })

  it('refuses hostile paths with a one-line UnsafePathError', () => {
    for (const p of HOSTILE) {
      assert.throws(
        () => validateRepoFilePath(p),
        (err: Error) =>
          err.name === 'UnsafePathError' && !err.message.includes('\n') && !err.message.includes('\0'),
        JSON.stringify(p),
      )
    }
  })

  it('every writer refuses them and changes nothing on disk', async () => {
    const cache = tmp.path
    const bytes = new TextEncoder().encode('ok')
    const etag = gitBlobSha1(bytes)
    await writeBlob(cache, repo, etag, bytes)
    await linkSnapshotFile(cache, repo, commit, 'keep.txt', etag)
    await mkdir(join(cache, 'victim'))
    await writeFile(join(cache, 'victim', 'x'), 'precious')
    const before = await snapshotTree(cache)
    for (const p of HOSTILE) {
      const label = JSON.stringify(p)
      assert.throws(() => snapshotPath(cache, repo, commit, p), { name: 'UnsafePathError' }, label)
      assert.throws(() => noExistPath(cache, repo, commit, p), { name: 'UnsafePathError' }, label)
      await assert.rejects(linkSnapshotFile(cache, repo, commit, p, etag), { name: 'UnsafePathError' }, label)
      await assert.rejects(markNoExist(cache, repo, commit, p), { name: 'UnsafePathError' }, label)
      await assert.rejects(
        removeSnapshotFiles(cache, repo, commit, ['keep.txt', p]),
        { name: 'UnsafePathError' },
        label,
      )
    }
    assert.deepEqual(await snapshotTree(cache), before)
  })
})
