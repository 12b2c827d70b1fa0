import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { KnownSnapshot } from '../../../src/node/gateway/known-snapshot.ts'
import { listEntries, snapshotTree, type TreeEntry } from '../../../src/node/gateway/tree-entries.ts'
import { startMockHub } from '../../../scripts/mock-hub/index.ts'
import { writeMockBranch } from '../../helpers/mock-repos.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

describe('gateway: tree entries made from what the node knows', function () {
  this.timeout(30_000)
  const tmp = useTmpDir()

  it('are the entries the Hub (mock) lists for the same files: pointer oids, lfs, folder tree ids', async () => {
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/m', 'main', {
      'model.safetensors': randomBytes(100_000),
      'README.md': '# hi\n',
      'b/c/deep.bin': randomBytes(3000),
      'b/a.txt': 'a',
      'b-side.json': '{}',
      'ü/x y.txt': 'unicode',
    })
    // The gateway lists no xetHash (it serves bytes over plain HTTP), like the mock with xetHashes off.
    const hub = await startMockHub({ root, xetHashes: false })
    try {
      const res = await fetch(`${hub.url}/api/models/org/m/tree/main?recursive=true&expand=false`)
      const listed = (await res.json()) as TreeEntry[]
      const commit = (
        (await (await fetch(`${hub.url}/api/models/org/m/revision/main`)).json()) as { sha: string }
      ).sha
      const known: KnownSnapshot = {
        commit,
        complete: true,
        origin: 'index',
        files: listed
          .filter((e) => e.type === 'file')
          .map((e) => ({ path: e.path, etag: e.lfs?.oid ?? e.oid, size: e.size, xetHash: null })),
      }
      const tree = snapshotTree(known)
      assert.deepEqual(listEntries(tree, '', true), listed)
      const top = (await (await fetch(`${hub.url}/api/models/org/m/tree/main/b`)).json()) as TreeEntry[]
      assert.deepEqual(listEntries(tree, 'b', false), top)
    } finally {
      await hub.close()
    }
  })
})
