import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ContentAnnouncer } from '../../src/node/content-announcer.ts'
import { blobCid, snapshotCid } from '../../src/node/content-cid.ts'
import { createHffsNode, type HffsLibp2p } from '../../src/node/libp2p-node.ts'
import { createLogger } from '../../src/node/logger.ts'
import { indexHubCache } from '../../src/store/index-db/index-hub-cache.ts'
import { ShardIndex } from '../../src/store/index-db/shard-index.ts'
import { initXet } from '../../src/store/xet/index.ts'
import { randomCommit, writeFakeRepo } from '../helpers/fake-cache.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

const quiet = createLogger('dht', { sink: () => {} })

function expectedCid(key: string): Uint8Array {
  const digest = createHash('sha256').update(key).digest()
  return Uint8Array.from([0x01, 0x55, 0x12, 0x20, ...digest]) // CIDv1, raw, sha2-256, 32 bytes
}

async function loopbackNode(): Promise<HffsLibp2p> {
  return createHffsNode({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
  })
}

describe('DHT content records', function () {
  this.timeout(20_000)
  const tmp = useTmpDir()
  const nodes: HffsLibp2p[] = []
  const indexes: ShardIndex[] = []

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
    for (const i of indexes.splice(0)) i.close()
  })

  it('keys blobs and snapshots by a raw sha256 CIDv1 of hffs:blob:… and hffs:snapshot:…', async () => {
    const etag = 'a'.repeat(64)
    assert.deepEqual((await blobCid(etag)).bytes, expectedCid(`hffs:blob:${etag}`))
    const commit = 'b'.repeat(40)
    assert.deepEqual(
      (await snapshotCid('model', 'org/name', commit)).bytes,
      expectedCid(`hffs:snapshot:model/org/name@${commit}`),
    )
    assert.equal((await blobCid(etag)).toString(), (await blobCid(etag)).toString())
  })

  it('provides every verified blob and complete snapshot; another node finds the provider', async () => {
    await initXet()
    const cacheDir = join(tmp(), 'hub')
    const commit = randomCommit()
    const etags = await writeFakeRepo(cacheDir, 'models--org--m', commit, [
      { path: 'model.safetensors', data: randomBytes(100_000), lfs: true },
      { path: 'config.json', data: Buffer.from('{}'), lfs: false },
    ])
    const index = ShardIndex.open(':memory:')
    indexes.push(index)
    await indexHubCache({ cacheDir, index })

    const a = await loopbackNode()
    const b = await loopbackNode()
    nodes.push(a, b)
    const announcer = new ContentAnnouncer({ node: a, index, cacheDir, logger: quiet, timeoutMs: 5000 })
    const lonely = await announcer.announceAll()
    assert.deepEqual(lonely, { provided: 0, failed: 0, waiting: 3 }) // no DHT peer yet: nothing attempted

    await a.dial(b.getMultiaddrs()[0])
    for (let i = 0; i < 50; i++) {
      const size = (a.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
      if (size > 0) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const report = await announcer.announceAll()
    assert.deepEqual(report, { provided: 3, failed: 0, waiting: 0 })
    assert.equal(announcer.providedCount(), 3)

    const empty = ShardIndex.open(':memory:')
    indexes.push(empty)
    const finder = new ContentAnnouncer({
      node: b,
      index: empty,
      cacheDir: join(tmp(), 'none'),
      logger: quiet,
    })
    const found: string[] = []
    for await (const p of finder.findBlobProviders(etags.get('model.safetensors') as string, {
      signal: AbortSignal.timeout(5000),
    })) {
      found.push(p.id.toString())
      break
    }
    assert.deepEqual(found, [a.peerId.toString()])
    const snap: string[] = []
    for await (const p of finder.findSnapshotProviders('model', 'org/m', commit, {
      signal: AbortSignal.timeout(5000),
    })) {
      snap.push(p.id.toString())
      break
    }
    assert.deepEqual(snap, [a.peerId.toString()])
    await announcer.stop()
    await finder.stop()
  })
})
