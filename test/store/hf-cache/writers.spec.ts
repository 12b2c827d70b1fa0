import assert from 'node:assert/strict'
import { lstat, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CACHEDIR_TAG_CONTENT,
  blobPath,
  commitBlob,
  incompleteBlobPath,
  linkSnapshotFile,
  lockPath,
  markNoExist,
  readRef,
  snapshotPath,
  writeBlob,
  writeRef,
} from '../../../src/store/hf-cache/index.ts'
import type { RepoRef } from '../../../src/store/hf-cache/index.ts'
import { commitOf, gitBlobSha1, sha256Hex, snapshotTree, useTempDir } from './helpers.ts'

const repo: RepoRef = { type: 'model', id: 'julien-c/EsperBERTo-small' }
const commit = commitOf('c1')
const readme = new TextEncoder().encode('# hello\n')
const weights = new Uint8Array(1000).map((_, i) => i % 251)

describe('hf-cache writers: layout', () => {
  const tmp = useTempDir()

  it('builds the paths huggingface_hub uses', () => {
    const cache = tmp.path
    const etag = sha256Hex(weights)
    assert.equal(blobPath(cache, repo, etag), `${cache}/models--julien-c--EsperBERTo-small/blobs/${etag}`)
    assert.equal(
      incompleteBlobPath(cache, repo, etag),
      `${cache}/models--julien-c--EsperBERTo-small/blobs/${etag}.incomplete`,
    )
    assert.equal(
      snapshotPath(cache, repo, commit, 'onnx/model.onnx'),
      `${cache}/models--julien-c--EsperBERTo-small/snapshots/${commit}/onnx/model.onnx`,
    )
    assert.equal(
      lockPath(cache, repo, etag),
      `${cache}/.locks/models--julien-c--EsperBERTo-small/${etag}.lock`,
    )
    assert.throws(() => blobPath(cache, repo, 'ABC'), { name: 'InvalidEtagError' })
    assert.throws(() => blobPath(cache, repo, etag.toUpperCase()), { name: 'InvalidEtagError' })
    assert.throws(() => snapshotPath(cache, repo, 'main', 'a'), { name: 'InvalidCommitError' })
  })

  it('writes blobs, relative links, refs, markers and the tag byte-for-byte', async () => {
    const cache = tmp.path
    const small = gitBlobSha1(readme)
    const big = sha256Hex(weights)
    await writeBlob(cache, repo, small, readme)
    await writeBlob(cache, repo, big, weights)
    await linkSnapshotFile(cache, repo, commit, 'README.md', small)
    await linkSnapshotFile(cache, repo, commit, 'onnx/fp16/model.bin', big)
    await writeRef(cache, repo, 'main', commit)
    await writeRef(cache, repo, 'refs/pr/1', commit)
    await markNoExist(cache, repo, commit, 'sub/missing.json')

    const r = 'models--julien-c--EsperBERTo-small'
    assert.deepEqual(await snapshotTree(cache), {
      'CACHEDIR.TAG': `file:${CACHEDIR_TAG_CONTENT}`,
      [r]: 'dir',
      [`${r}/.no_exist`]: 'dir',
      [`${r}/.no_exist/${commit}`]: 'dir',
      [`${r}/.no_exist/${commit}/sub`]: 'dir',
      [`${r}/.no_exist/${commit}/sub/missing.json`]: 'file:',
      [`${r}/blobs`]: 'dir',
      [`${r}/blobs/${big}`]: `file:${new TextDecoder().decode(weights)}`,
      [`${r}/blobs/${small}`]: 'file:# hello\n',
      [`${r}/refs`]: 'dir',
      [`${r}/refs/main`]: `file:${commit}`,
      [`${r}/refs/refs`]: 'dir',
      [`${r}/refs/refs/pr`]: 'dir',
      [`${r}/refs/refs/pr/1`]: `file:${commit}`,
      [`${r}/snapshots`]: 'dir',
      [`${r}/snapshots/${commit}`]: 'dir',
      [`${r}/snapshots/${commit}/README.md`]: `link:../../blobs/${small}`,
      [`${r}/snapshots/${commit}/onnx`]: 'dir',
      [`${r}/snapshots/${commit}/onnx/fp16`]: 'dir',
      [`${r}/snapshots/${commit}/onnx/fp16/model.bin`]: `link:../../../../blobs/${big}`,
    })
    assert.equal(
      CACHEDIR_TAG_CONTENT,
      'Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by huggingface_hub.\n' +
        '# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/\n',
    )
    // The links resolve to the blobs' bytes.
    assert.deepEqual(
      new Uint8Array(await readFile(snapshotPath(cache, repo, commit, 'onnx/fp16/model.bin'))),
      weights,
    )
    assert.equal(await readRef(cache, repo, 'refs/pr/1'), commit)
    assert.equal(await readRef(cache, repo, 'nope'), null)
  })

  it('keeps an existing CACHEDIR.TAG untouched', async () => {
    await writeFile(join(tmp.path, 'CACHEDIR.TAG'), 'custom')
    await writeRef(tmp.path, repo, 'main', commit)
    assert.equal(await readFile(join(tmp.path, 'CACHEDIR.TAG'), 'utf8'), 'custom')
  })

  it('handles unicode, spaces and empty files', async () => {
    const cache = tmp.path
    const empty = new Uint8Array(0)
    const etag = gitBlobSha1(empty)
    assert.equal(etag, 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391')
    await writeBlob(cache, repo, etag, empty)
    const name = 'données été/日本語 file.txt'
    const link = await linkSnapshotFile(cache, repo, commit, name, etag)
    assert.equal(await readlink(link), `../../../blobs/${etag}`)
    assert.equal((await stat(link)).size, 0)
  })

  it('is idempotent and only rewrites a ref when it changes', async () => {
    const cache = tmp.path
    const etag = gitBlobSha1(readme)
    await writeBlob(cache, repo, etag, readme)
    const link = await linkSnapshotFile(cache, repo, commit, 'README.md', etag)
    const linkIno = (await lstat(link)).ino
    await linkSnapshotFile(cache, repo, commit, 'README.md', etag)
    assert.equal((await lstat(link)).ino, linkIno)

    await writeRef(cache, repo, 'main', commit)
    const refFile = join(cache, 'models--julien-c--EsperBERTo-small', 'refs', 'main')
    const refIno = (await lstat(refFile)).ino
    await writeRef(cache, repo, 'main', commit)
    assert.equal((await lstat(refFile)).ino, refIno, 'same content: not rewritten')
    const other = commitOf('c2')
    await writeRef(cache, repo, 'main', other)
    assert.equal(await readFile(refFile, 'utf8'), other)
    // A revision that is the commit itself is not a ref, as in huggingface_hub.
    await writeRef(cache, repo, other, other)
    assert.deepEqual((await readdir(join(cache, 'models--julien-c--EsperBERTo-small', 'refs'))).sort(), [
      'main',
    ])
    // No temp files are left anywhere.
    const tree = Object.keys(await snapshotTree(cache))
    assert.deepEqual(
      tree.filter((p) => /\.tmp$|\.incomplete$/.test(p)),
      [],
    )
  })

  it('replaces a link that points to another blob', async () => {
    const cache = tmp.path
    const a = gitBlobSha1(readme)
    const b = sha256Hex(weights)
    await writeBlob(cache, repo, a, readme)
    await writeBlob(cache, repo, b, weights)
    const link = await linkSnapshotFile(cache, repo, commit, 'x.bin', a)
    await linkSnapshotFile(cache, repo, commit, 'x.bin', b)
    assert.equal(await readlink(link), `../../blobs/${b}`)
  })

  it('refuses to link a missing blob', async () => {
    await assert.rejects(linkSnapshotFile(tmp.path, repo, commit, 'README.md', gitBlobSha1(readme)), {
      name: 'BlobNotFoundError',
    })
    assert.deepEqual(await readdir(tmp.path), [])
  })

  it('commitBlob moves a finished file in, or drops it when the blob exists', async () => {
    const cache = tmp.path
    const etag = sha256Hex(weights)
    const first = incompleteBlobPath(cache, repo, etag)
    await writeBlob(cache, repo, gitBlobSha1(readme), readme) // creates blobs/
    await writeFile(first, weights)
    assert.equal(await commitBlob(cache, repo, etag, first), blobPath(cache, repo, etag))
    await assert.rejects(lstat(first), { code: 'ENOENT' })
    const second = join(cache, 'elsewhere.tmp')
    await writeFile(second, weights)
    await commitBlob(cache, repo, etag, second)
    await assert.rejects(lstat(second), { code: 'ENOENT' })
    assert.deepEqual(new Uint8Array(await readFile(blobPath(cache, repo, etag))), weights)
  })

  it('refuses bad ref names and commits', async () => {
    for (const name of [
      '',
      '../x',
      'refs/../x',
      '/main',
      'main/',
      'a//b',
      '.hidden',
      'a\\b',
      'a\0b',
      'x.lock',
      'a b',
    ]) {
      await assert.rejects(writeRef(tmp.path, repo, name, commit), { name: 'InvalidRefNameError' }, name)
    }
    await assert.rejects(writeRef(tmp.path, repo, 'main', 'abc'), { name: 'InvalidCommitError' })
    await assert.rejects(writeRef(tmp.path, repo, 'main', `${commit}\n`), { name: 'InvalidCommitError' })
    assert.deepEqual(await readdir(tmp.path), [])
  })
})
