import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { restrictedToTrusted } from '../../src/node/restricted-repos.ts'
import { resolveSnapshot } from '../../src/node/pull/resolve-snapshot.ts'
import { PeerTrust } from '../../src/node/trust.ts'
import type { BlobManifest, SnapshotListing } from '../../src/protocols/sources.ts'
import { incompleteBlobPath } from '../../src/store/hf-cache/index.ts'
import { ShardIndex } from '../../src/store/index-db/shard-index.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

const COMMIT = 'c'.repeat(40)
const PUBLIC_ONLY = '1'.repeat(64)
const SHARED = '2'.repeat(64)
const GATED_ONLY = '3'.repeat(64)
const IN_PROGRESS = '4'.repeat(64)
const STRANGER = '12D3KooWstranger'
const FRIEND = '12D3KooWfriend'

describe('gated and private repos, served to trusted peers only', function () {
  this.timeout(30_000)
  const tmp = useTmpDir()

  it('refuses their listings and the manifests of blobs only they hold to untrusted peers', async () => {
    const index = ShardIndex.open(':memory:')
    index.putRepoAccess('model', 'org/pub', { private: false, gated: false })
    index.putRepoAccess('model', 'org/gated', { private: false, gated: true })
    index.putRepoAccess('dataset', 'org/secret', { private: true, gated: false })
    const file = (path: string, etag: string) => ({ path, etag, size: 1 })
    index.putSnapshot('model', 'org/pub', COMMIT, [file('a', PUBLIC_ONLY), file('b', SHARED)])
    index.putSnapshot('model', 'org/gated', COMMIT, [file('b', SHARED), file('c', GATED_ONLY)])
    // A download in progress into the gated repo's folder: not in the index yet.
    const partial = incompleteBlobPath(tmp(), { type: 'model', id: 'org/gated' }, IN_PROGRESS)
    await mkdir(dirname(partial), { recursive: true })
    await writeFile(partial, 'x')

    const asked: string[] = []
    const inner = {
      getSnapshot: async (): Promise<SnapshotListing | null> => null,
      getManifest: async (etag: string): Promise<BlobManifest | null> => {
        asked.push(etag)
        return null
      },
    }
    const trust = new PeerTrust({ privateSwarm: false, trusted: [FRIEND] })
    const served = restrictedToTrusted(inner, { index, cacheDir: tmp(), trust })
    const listing = (type: 'model' | 'dataset', id: string, peer: string): boolean | undefined =>
      served.mayServe?.(type, id, peer)
    assert.deepEqual(
      [
        listing('model', 'org/pub', STRANGER),
        listing('model', 'org/never-asked', STRANGER),
        listing('model', 'org/gated', STRANGER),
        listing('dataset', 'org/secret', STRANGER),
        listing('model', 'org/gated', FRIEND),
        listing('dataset', 'org/secret', FRIEND),
      ],
      [true, true, false, false, true, true],
    )
    const manifest = (etag: string, peer: string): boolean | undefined =>
      served.mayServeManifest?.(etag, peer)
    assert.deepEqual(
      [PUBLIC_ONLY, SHARED, GATED_ONLY, IN_PROGRESS, '5'.repeat(64)].map((e) => manifest(e, STRANGER)),
      [true, true, false, false, true],
    )
    assert.deepEqual(
      [GATED_ONLY, IN_PROGRESS].map((e) => manifest(e, FRIEND)),
      [true, true],
    )
    await served.getManifest(SHARED)
    assert.deepEqual(asked, [SHARED], 'answers come from the node’s own sources')

    // Trust follows `peer add --trust` / `peer rm`; in a private swarm every peer is trusted.
    trust.setTrusted(STRANGER, true)
    assert.equal(manifest(GATED_ONLY, STRANGER), true)
    trust.setTrusted(STRANGER, false)
    assert.equal(manifest(GATED_ONLY, STRANGER), false)
    const swarm = restrictedToTrusted(inner, {
      index,
      cacheDir: tmp(),
      trust: new PeerTrust({ privateSwarm: true }),
    })
    assert.equal(swarm.mayServe?.('model', 'org/gated', STRANGER), true)
    index.close()
  })

  describe('learning which repos are gated or private from the Hub', () => {
    let hub: MockHub
    afterEach(async () => {
      await hub?.close()
    })

    it("records the revision API's private and gated fields, for branches and commits alike", async () => {
      const root = join(tmp(), 'mock')
      for (const id of ['org/pub', 'org/gated', 'org/private']) {
        await writeMockBranch(root, `models/${id}`, 'main', { 'config.json': `{"id": "${id}"}` })
      }
      await writeFile(join(root, 'models/org/gated/.mock.json'), JSON.stringify({ gated: 'auto' }))
      await writeFile(join(root, 'models/org/private/.mock.json'), JSON.stringify({ private: true }))
      hub = await startMockHub({ root, tokens: ['hf_x'] })
      const index = ShardIndex.open(':memory:')
      const config = { endpoint: hub.url, token: 'hf_x', offline: false }
      const commits: Record<string, string> = {}
      for (const id of ['org/pub', 'org/gated', 'org/private']) {
        const repo = { type: 'model', id } as const
        const s = await resolveSnapshot({
          config,
          cacheDir: join(tmp(), 'hub'),
          repo,
          revision: 'main',
          index,
        })
        assert.equal(s.origin, 'hub')
        commits[id] = s.commit
      }
      assert.deepEqual(index.getRepoAccess('model', 'org/pub'), { private: false, gated: false })
      assert.deepEqual(index.getRepoAccess('model', 'org/gated'), { private: false, gated: true })
      assert.deepEqual(index.getRepoAccess('model', 'org/private'), { private: true, gated: false })
      assert.deepEqual(
        index.restrictedRepos().map((r) => r.repoId),
        ['org/gated', 'org/private'],
      )
      // A pull pinned to a commit learns it as well (a repo turned gated since is recorded as such).
      await writeFile(join(root, 'models/org/pub/.mock.json'), JSON.stringify({ gated: 'manual' }))
      const repo = { type: 'model', id: 'org/pub' } as const
      await resolveSnapshot({
        config,
        cacheDir: join(tmp(), 'hub'),
        repo,
        revision: commits['org/pub'],
        index,
      })
      assert.deepEqual(index.getRepoAccess('model', 'org/pub'), { private: false, gated: true })
      index.close()
    })
  })
})
