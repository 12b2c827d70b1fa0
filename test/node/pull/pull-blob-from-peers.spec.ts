import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pullBlobFromPeers } from '../../../src/node/pull/pull-blob-from-peers.ts'
import { WriteWorker } from '../../../src/node/pull/write-worker.ts'
import { blobPath } from '../../../src/store/hf-cache/index.ts'
import { ShardIndex } from '../../../src/store/index-db/shard-index.ts'
import { chunkBytes, fileHash, hashToHex, initXet } from '../../../src/store/xet/index.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'
import type { ChunkReply, PeerHaves, PeerSource } from '../../../src/node/pull/peer-source.ts'
import type { BlobManifest } from '../../../src/protocols/sources.ts'
import { FakePeer } from './fake-peer.ts'

const REPO = { type: 'model' as const, id: 'org/m' }

describe('pullBlobFromPeers', () => {
  const tmp = useTmpDir()
  const data = randomBytes(4 * 1024 * 1024 + 123)
  const etag = createHash('sha256').update(data).digest('hex')
  let xetHash = ''

  before(async () => {
    await initXet()
    xetHash = hashToHex(fileHash(await chunkBytes(data)))
  })

  const base = () => ({
    cacheDir: join(tmp(), 'hub'),
    home: join(tmp(), 'home'),
    repo: REPO,
    etag,
    size: data.byteLength,
    xetHash,
  })

  async function assertBlob(): Promise<void> {
    assert.ok(Buffer.from(await readFile(blobPath(join(tmp(), 'hub'), REPO, etag))).equals(data))
  }

  it('assembles a blob from several peers, each serving a share', async () => {
    const peers = await Promise.all(['a', 'b', 'c'].map((id) => FakePeer.of(id, etag, data, { delayMs: 1 })))
    const r = await pullBlobFromPeers({ ...base(), peers, batchSize: 4, window: 2 })
    await assertBlob()
    for (const p of peers) assert.ok(p.served > 0, `${p.id} served nothing`)
    assert.equal(
      Object.values(r.bytesByPeer).reduce((a, b) => a + b, 0),
      data.byteLength,
    )
    assert.deepEqual(await readdir(join(tmp(), 'home', 'downloads')), [], 'progress is dropped when done')
  })

  for (const checked of ['as they are written (the write worker)', 'as they arrive'])
    it(`drops a peer that sends a bad chunk and completes from the others, chunks checked ${checked}`, async () => {
      const worker = checked === 'as they arrive' ? null : new WriteWorker()
      try {
        const bad = await FakePeer.of('bad', etag, data, { badAfter: 2 })
        const good = await FakePeer.of('good', etag, data)
        const dropped: [string, string][] = []
        await pullBlobFromPeers({
          ...base(),
          peers: [bad, good],
          batchSize: 4,
          writeWorker: worker,
          onPeerDropped: (id, err) => dropped.push([id, (err as Error).name]),
        })
        // The Hub's xetHash is known: no whole-file hash at the end, the chunks' checks alone kept it right.
        await assertBlob()
        assert.deepEqual(dropped, [['bad', 'BadChunkError']])
        if (worker !== null) {
          assert.ok(bad.unchecked > 2, 'the peers handed chunks over unchecked')
          assert.equal(good.unchecked, good.served)
        } else assert.equal(bad.unchecked + good.unchecked, 0)
      } finally {
        await worker?.close()
      }
    })

  it('gets what one peer lacks from another, and survives connection errors', async () => {
    const half = await FakePeer.of('half', etag, data, { lacks: (i) => i % 2 === 0, failFirst: 2 })
    const other = await FakePeer.of('other', etag, data, { lacks: (i) => i % 2 === 1, hasManifest: false })
    await pullBlobFromPeers({ ...base(), peers: [half, other], batchSize: 3 })
    await assertBlob()
  })

  it('takes chunks nobody has from the Hub, or says which are missing', async () => {
    const peer = await FakePeer.of('p', etag, data, { lacks: (i) => i === 3 })
    await assert.rejects(pullBlobFromPeers({ ...base(), peers: [peer] }), { name: 'ChunksUnavailableError' })
    let fromHub = 0
    const r = await pullBlobFromPeers({
      ...base(),
      peers: [peer],
      hubRange: async (start, end) => {
        fromHub += end - start
        return data.subarray(start, end)
      },
    })
    await assertBlob()
    assert.equal(r.bytesFromHub, fromHub)
    assert.ok(fromHub > 0 && fromHub <= 131072)
    assert.ok(r.bytesResumed > 0, 'the first attempt left verified chunks to resume from')
  })

  it("refuses a manifest that does not match the Hub's xetHash", async () => {
    const liar = await FakePeer.of('liar', etag, randomBytes(data.byteLength))
    await assert.rejects(pullBlobFromPeers({ ...base(), peers: [liar] }), { name: 'NoManifestError' })
    const blobs = await readdir(join(tmp(), 'hub', 'models--org--m', 'blobs')).catch(() => [])
    assert.deepEqual(blobs, [])
  })

  it('catches a consistent manifest of other content by the etag, when xetHash is unknown', async () => {
    const liar = await FakePeer.of('liar', etag, randomBytes(data.byteLength))
    await assert.rejects(pullBlobFromPeers({ ...base(), xetHash: null, peers: [liar] }), {
      name: 'IntegrityError',
    })
    const blobs = await readdir(join(tmp(), 'hub', 'models--org--m', 'blobs'))
    assert.deepEqual(blobs, [], 'nothing unverified is visible')
  })

  it('copies chunks this node already has (another revision) instead of fetching them', async () => {
    const index = ShardIndex.open(join(tmp(), 'home', 'index.sqlite'))
    try {
      // Revision 1: a blob sharing all but the last ~1 MB with the new one, already indexed.
      const old = Buffer.concat([data.subarray(0, 3 * 1024 * 1024), randomBytes(1024 * 1024)])
      const oldEtag = createHash('sha256').update(old).digest('hex')
      const oldPeer = await FakePeer.of('o', oldEtag, old)
      await pullBlobFromPeers({
        ...base(),
        etag: oldEtag,
        xetHash: null,
        size: old.byteLength,
        peers: [oldPeer],
        index,
      })
      const peer = await FakePeer.of('p', etag, data)
      const r = await pullBlobFromPeers({ ...base(), peers: [peer], index })
      await assertBlob()
      assert.ok(r.bytesLocal > 2.5 * 1024 * 1024, `only ${r.bytesLocal} bytes were local`)
      assert.ok((r.bytesByPeer.p ?? 0) < 1.5 * 1024 * 1024)
      assert.equal(index.getBlob(etag)?.size, data.byteLength)
    } finally {
      index.close()
    }
  })

  it('resumes after an abort without refetching verified chunks', async () => {
    const slow = await FakePeer.of('s', etag, data, { delayMs: 5 })
    const abort = new AbortController()
    let got = 0
    await assert.rejects(
      pullBlobFromPeers({
        ...base(),
        peers: [slow],
        batchSize: 2,
        window: 1,
        signal: abort.signal,
        onBytes: (n) => {
          got += n
          if (got > data.byteLength / 2) abort.abort()
        },
      }),
    )
    const r = await pullBlobFromPeers({ ...base(), peers: [slow] })
    await assertBlob()
    assert.ok(r.bytesResumed >= data.byteLength / 2 - 131072, `resumed only ${r.bytesResumed}`)
    assert.equal(
      r.bytesResumed + (r.bytesByPeer.s ?? 0),
      data.byteLength,
      'no verified chunk is fetched twice',
    )
  })

  it('asks a peer that begins the blob later for its map again, and takes chunks from it once it has them', async () => {
    // A slow seeder (a WAN), and a LAN peer that begins the same blob a moment after us.
    const seeder = await FakePeer.of('wan', etag, data, { delayMs: 100 })
    const lan = new LatePeer(await FakePeer.of('lan', etag, data))
    setTimeout(() => (lan.begun = true), 100)
    const r = await pullBlobFromPeers({ ...base(), peers: [seeder, lan], batchSize: 4, window: 1 })
    await assertBlob()
    assert.equal(lan.blindAsks, 0, 'a peer that had not begun was asked for chunks')
    assert.ok(lan.subscriptions >= 2, `subscribed ${lan.subscriptions} times`)
    assert.ok(
      (r.bytesByPeer.lan ?? 0) > data.byteLength / 2,
      `the LAN peer served ${r.bytesByPeer.lan ?? 0} of ${data.byteLength} bytes`,
    )
  })
})

/** A peer with the have protocol that holds nothing of the blob until `begun`, then all of it. */
class LatePeer implements PeerSource {
  readonly id: string
  begun = false
  blindAsks = 0
  subscriptions = 0
  private readonly inner: FakePeer

  constructor(inner: FakePeer) {
    this.inner = inner
    this.id = inner.id
  }

  fetchManifest(etag: string): Promise<BlobManifest | null> {
    return this.begun ? this.inner.fetchManifest(etag) : Promise.resolve(null)
  }

  async *fetchChunks(hashes: Uint8Array[], options: { signal?: AbortSignal }): AsyncIterable<ChunkReply> {
    if (!this.begun) {
      this.blindAsks++
      for (const hash of hashes) yield { hash, missing: true }
      return
    }
    yield* this.inner.fetchChunks(hashes, options)
  }

  async subscribeHave(): Promise<PeerHaves | 'none'> {
    this.subscriptions++
    if (!this.begun) return 'none'
    // It holds every chunk already: no updates will follow, until the pull closes the subscription.
    let closed = (): void => {}
    const ended = new Promise<void>((resolve) => (closed = resolve))
    return {
      has: () => true,
      updates: {
        [Symbol.asyncIterator]: () => ({
          next: async (): Promise<IteratorResult<number[]>> => {
            await ended
            return { done: true, value: undefined }
          },
        }),
      },
      close: () => closed(),
    }
  }
}
