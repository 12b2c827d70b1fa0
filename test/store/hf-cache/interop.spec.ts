import assert from 'node:assert/strict'
import { realpath } from 'node:fs/promises'
import { basename } from 'node:path'
import { scanCacheDir } from '@huggingface/hub'
import { linkSnapshotFile, scanHubCache, writeBlob, writeRef } from '../../../src/store/hf-cache/index.ts'
import type { RepoRef } from '../../../src/store/hf-cache/index.ts'
import { commitOf, gitBlobSha1, sha256Hex, useTempDir } from './helpers.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

interface Written {
  repo: RepoRef
  commit: string
  refs: string[]
  files: Record<string, Uint8Array>
}

// @huggingface/hub's scan reads neither sub-folders of a snapshot nor nested refs, so files stay
// at the top level here; nested refs are written to check that they do not disturb it.
const WRITTEN: Written[] = [
  {
    repo: { type: 'model', id: 'org/model' },
    commit: commitOf('m1'),
    refs: ['main', 'refs/pr/1'],
    files: {
      'config.json': enc('{"x": 1}'),
      'model.safetensors': new Uint8Array(3000).fill(1),
      'empty.txt': enc(''),
    },
  },
  {
    repo: { type: 'model', id: 'org/model' },
    commit: commitOf('m2'),
    refs: ['v2'],
    files: { 'config.json': enc('{"x": 1}'), 'model.safetensors': new Uint8Array(3000).fill(2) },
  },
  {
    repo: { type: 'dataset', id: 'solo-data' },
    commit: commitOf('d1'),
    refs: ['main'],
    files: { 'train split ünï 文件.csv': enc('a,b\n1,2\n') },
  },
]

describe('hf-cache interop with @huggingface/hub scanCacheDir', () => {
  const tmp = useTempDir()

  it('sees the same repos, revisions, files and sizes as our scan', async () => {
    const cache = tmp.path
    for (const w of WRITTEN) {
      for (const [path, bytes] of Object.entries(w.files)) {
        const etag = bytes.length > 1000 ? sha256Hex(bytes) : gitBlobSha1(bytes)
        await writeBlob(cache, w.repo, etag, bytes)
        await linkSnapshotFile(cache, w.repo, w.commit, path, etag)
      }
      for (const ref of w.refs) await writeRef(cache, w.repo, ref, w.commit)
    }

    const theirs = await scanCacheDir(cache)
    const ours = await scanHubCache(cache)
    assert.deepEqual(theirs.warnings, [])
    assert.deepEqual(ours.warnings, [])
    assert.equal(theirs.size, ours.size)

    const normalizedTheirs = theirs.repos
      .map((r) => ({
        key: `${r.id.type}:${r.id.name}`,
        size: r.size,
        nbFiles: r.filesCount,
        revisions: r.revisions
          .map((rev) => ({
            commit: rev.commitOid,
            size: rev.size,
            refs: [...rev.refs].sort(),
            files: rev.files
              .map((f) => ({ path: basename(f.path), size: f.blob.size, blob: f.blob.path }))
              .sort((a, b) => (a.path < b.path ? -1 : 1)),
          }))
          .sort((a, b) => (a.commit < b.commit ? -1 : 1)),
      }))
      .sort((a, b) => (a.key < b.key ? -1 : 1))

    const normalizedOurs = []
    for (const r of ours.repos) {
      const revisions = []
      for (const rev of r.revisions) {
        const files = []
        for (const f of rev.files)
          files.push({ path: f.path, size: f.size, blob: await realpath(f.blobPath) })
        // Nested refs (refs/pr/1) are invisible to @huggingface/hub.
        revisions.push({
          commit: rev.commit,
          size: rev.size,
          refs: rev.refs.filter((x) => !x.includes('/')),
          files,
        })
      }
      normalizedOurs.push({ key: `${r.type}:${r.id}`, size: r.size, nbFiles: r.nbFiles, revisions })
    }
    assert.deepEqual(normalizedOurs, normalizedTheirs)

    // And ours does see the nested ref.
    assert.deepEqual(ours.repos.find((r) => r.type === 'model')?.refs, {
      main: commitOf('m1'),
      'refs/pr/1': commitOf('m1'),
      v2: commitOf('m2'),
    })
    assert.equal(normalizedOurs.length, 2)
    assert.equal(ours.repos.find((r) => r.type === 'model')?.nbFiles, 4) // config.json is shared by both revisions
  })
})
