import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { lstat, mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { chunksProtocol, type ChunksProtocol } from '../../src/protocols/chunks/index.ts'
import { manifestProtocol, type ManifestProtocol } from '../../src/protocols/manifest/index.ts'
import type { SnapshotEntry } from '../../src/protocols/sources.ts'
import { peerSource, snapshotFromPeers } from '../../src/node/peer-sources.ts'
import { pullSnapshot } from '../../src/node/pull/pull-snapshot.ts'
import { blobPath, snapshotDir, type RepoRef } from '../../src/store/hf-cache/index.ts'
import { COMMIT, MemorySources } from '../protocols/fixtures.ts'
import { useNodes } from '../protocols/nodes.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

const REPO: RepoRef = { type: 'model', id: 'org/m' }
const OFFLINE = { endpoint: 'http://127.0.0.1:9', token: null, offline: true }

/** Every entry under `root`: path, kind, size or link target. Compared before and after a pull. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name)
      const st = await lstat(path)
      const rel = relative(root, path)
      if (st.isSymbolicLink()) out.push(`${rel} -> ${await readlink(path)}`)
      else if (st.isDirectory()) {
        out.push(`${rel}/`)
        await walk(path)
      } else out.push(`${rel} ${st.size} ${st.mtimeMs}`)
    }
  }
  await walk(root)
  return out
}

describe('a hostile snapshot listing from a peer (real manifest protocol, offline pull)', function () {
  this.timeout(30_000)
  const tmp = useTmpDir()
  const createNode = useNodes()

  it('changes nothing on disk and fails with one clear line', async () => {
    // The parent of the cache holds a folder outside it, where a symlinked folder in the snapshot leads.
    const cacheDir = join(tmp(), 'hub')
    const outside = join(tmp(), 'outside')
    await mkdir(outside, { recursive: true })
    const content = randomBytes(3000)
    const etag = createHash('sha256').update(content).digest('hex')
    // The blob is already cached: a pull only has to link it, so a path that escapes would be written.
    await mkdir(join(blobPath(cacheDir, REPO, etag), '..'), { recursive: true })
    await writeFile(blobPath(cacheDir, REPO, etag), content)
    await mkdir(snapshotDir(cacheDir, REPO, COMMIT), { recursive: true })
    await symlink(outside, join(snapshotDir(cacheDir, REPO, COMMIT), 'evil'))

    const sources = new MemorySources()
    const server = await createNode<{ manifest: ManifestProtocol; chunks: ChunksProtocol }>({
      manifest: manifestProtocol({ snapshots: sources, manifests: sources }),
      chunks: chunksProtocol({ chunks: sources }),
    })
    const client = await createNode<{ manifest: ManifestProtocol; chunks: ChunksProtocol }>({
      manifest: manifestProtocol({ snapshots: sources, manifests: sources }),
      chunks: chunksProtocol({ chunks: sources }),
    })
    const services = { manifest: client.services.manifest, chunks: client.services.chunks }
    await client.dial(server.getMultiaddrs()[0])

    const entry = (path: string): SnapshotEntry => ({ path, etag, size: content.length, xetHash: null })
    const pull = (revision: string): Promise<unknown> =>
      pullSnapshot({
        config: OFFLINE,
        cacheDir,
        home: join(tmp(), 'home'),
        repo: REPO,
        revision,
        peers: () => [peerSource(server.peerId, services)],
        peerSnapshot: (r, rev, s) => snapshotFromPeers([server.peerId], services, r, rev, s, () => true),
      })

    const hostile: [string, SnapshotEntry[], RegExp][] = [
      ['dotdot', [entry('../../x')], /Unsafe file path "\.\.\/\.\.\/x": '\.\.' segment/],
      ['absolute', [entry('/etc/x')], /Unsafe file path "\/etc\/x": absolute/],
      ['backslash', [entry('a\\b')], /contains a backslash/],
      ['nul', [entry('a\0b')], /contains NUL/],
      ['late', [entry('fine.txt'), entry('sub/../../../x')], /'\.\.' segment/],
      ['symlink', [entry('fine.txt'), entry('evil/x')], /"evil\/" is not a folder .* symlink/],
      ['file-and-folder', [entry('a'), entry('a/b')], /"a" is listed both as a file and as a folder/],
      ['twice', [entry('fine.txt'), entry('fine.txt')], /"fine\.txt" is listed twice/],
    ]
    for (const [name, files] of hostile)
      sources.snapshots.set(`model/org/m@${name}`, { commit: COMMIT, files })

    const before = await tree(tmp())
    for (const [name, , message] of hostile) {
      const err = await pull(name).then(
        () => assert.fail(`${name}: the pull succeeded`),
        (e: unknown) => e as Error,
      )
      assert.equal(err.name, 'UnsafePathError', `${name}: ${err.message}`)
      assert.match(err.message, message, name)
      assert.match(err.message, new RegExp(`^org/m@${name}: `), name)
      assert.ok(!err.message.includes('\n') && !err.message.includes('\0'), `${name}: one printable line`)
      assert.deepEqual(await tree(tmp()), before, `${name}: something changed on disk`)
    }

    // A hostile etag or commit does not get past the protocol: that peer just has no usable listing.
    sources.snapshots.set('model/org/m@etag', { commit: COMMIT, files: [{ ...entry('x'), etag: '../..' }] })
    sources.snapshots.set('model/org/m@commit', { commit: '../../..', files: [entry('x')] })
    for (const name of ['etag', 'commit']) {
      await assert.rejects(pull(name), (e: Error) => e.name === 'OfflineError' && /no peer/.test(e.message))
      assert.deepEqual(await tree(tmp()), before, `${name}: something changed on disk`)
    }

    // The same peer and path with a sound listing: the pull links the file, so the refusals above are real.
    sources.snapshots.set('model/org/m@main', { commit: COMMIT, files: [entry('fine.txt')] })
    const result = (await pull('main')) as { origin: string; files: { path: string; source: string }[] }
    assert.equal(result.origin, 'peer')
    assert.deepEqual(
      result.files.map((f) => [f.path, f.source]),
      [['fine.txt', 'cache']],
    )
    assert.equal(await readlink(join(snapshotDir(cacheDir, REPO, COMMIT), 'fine.txt')), `../../blobs/${etag}`)
    assert.deepEqual(await readdir(outside), [])
  })
})
