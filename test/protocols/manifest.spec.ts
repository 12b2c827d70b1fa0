import assert from 'node:assert/strict'
import { encode } from 'cborg'
import { lpStream } from '@libp2p/utils'
import {
  MANIFEST_PROTOCOL,
  manifestProtocol,
  type ManifestProtocol,
} from '../../src/protocols/manifest/index.ts'
import { fileHash, type ChunkRef } from '../../src/store/xet/index.ts'
import { COMMIT, ETAG_A, ETAG_B, MemorySources, makeBlob, pseudoRandomBytes } from './fixtures.ts'
import { useNodes } from './nodes.ts'
import { openRaw, sendFrame, sendLengthPrefix, waitForReset } from './raw-stream.ts'
import type { SnapshotListing } from '../../src/protocols/sources.ts'
import type { Libp2p } from '@libp2p/interface'

const REPO = { type: 'model', id: 'org/model' } as const

const LISTING: SnapshotListing = {
  commit: COMMIT,
  files: [
    { path: 'config.json', etag: ETAG_B, size: 512, xetHash: null },
    { path: 'model.safetensors', etag: ETAG_A, size: 300_000, xetHash: 'ab'.repeat(32) },
    // returned as-is: validating paths is the caller's job
    { path: '../outside', etag: ETAG_B, size: 0, xetHash: null },
  ],
}

describe('manifest protocol', function () {
  this.timeout(15_000)
  const createNode = useNodes()

  async function pair(
    sources = new MemorySources(),
    init: { messageTimeout?: number } = {},
  ): Promise<{
    server: Libp2p<{ manifest: ManifestProtocol }>
    client: Libp2p<{ manifest: ManifestProtocol }>
  }> {
    const server = await createNode({
      manifest: manifestProtocol({ snapshots: sources, manifests: sources, ...init }),
    })
    const client = await createNode({
      manifest: manifestProtocol({ snapshots: sources, manifests: sources, ...init }),
    })
    return { server, client }
  }

  it('fetches a snapshot listing by branch and by commit', async () => {
    const sources = new MemorySources()
    sources.snapshots.set('model/org/model@main', LISTING)
    sources.snapshots.set(`model/org/model@${COMMIT}`, LISTING)
    const { server, client } = await pair(sources)
    assert.deepEqual(
      await client.services.manifest.fetchSnapshot(server.getMultiaddrs(), REPO, 'main'),
      LISTING,
    )
    assert.deepEqual(await client.services.manifest.fetchSnapshot(server.peerId, REPO, COMMIT), LISTING)
  })

  it('answers not-found for an unknown revision and for a repo it may not serve to that peer', async () => {
    const sources = new MemorySources()
    sources.snapshots.set('model/org/model@main', LISTING)
    sources.private.add('model/org/model')
    const { server, client } = await pair(sources)
    const fetch = (rev: string): Promise<unknown> =>
      client.services.manifest.fetchSnapshot(server.getMultiaddrs(), REPO, rev)
    await assert.rejects(fetch('main'), { name: 'NotFoundError' })
    await assert.rejects(fetch('v2'), { name: 'NotFoundError' })
  })

  it('fetches a small manifest and an empty one', async () => {
    const sources = new MemorySources()
    const blob = await makeBlob(ETAG_A, [65_536, 131_072, 17])
    sources.addBlob(blob)
    sources.addBlob(await makeBlob(ETAG_B, []))
    const { server, client } = await pair(sources)
    const manifest = await client.services.manifest.fetchManifest(server.getMultiaddrs(), ETAG_A, {
      xetHash: blob.manifest.xetHash,
    })
    assert.deepEqual(manifest, blob.manifest)
    const empty = await client.services.manifest.fetchManifest(server.getMultiaddrs(), ETAG_B)
    assert.deepEqual(empty, { etag: ETAG_B, size: 0, xetHash: new Uint8Array(32), chunks: [] })
  })

  it('pages a manifest of 40 000 chunks', async () => {
    const sources = new MemorySources()
    const noise = pseudoRandomBytes(40_000 * 32, 9)
    const chunks: ChunkRef[] = Array.from({ length: 40_000 }, (_, i) => ({
      hash: noise.slice(i * 32, i * 32 + 32),
      length: 1 + (i % 131_072),
    }))
    const size = chunks.reduce((sum, c) => sum + c.length, 0)
    await makeBlob(ETAG_B, []) // loads the hashers
    sources.manifests.set(ETAG_A, { etag: ETAG_A, size, xetHash: fileHash(chunks), chunks })
    const { server, client } = await pair(sources)
    const manifest = await client.services.manifest.fetchManifest(server.getMultiaddrs(), ETAG_A)
    assert.equal(manifest.chunks.length, 40_000)
    assert.deepEqual(manifest.chunks[39_999], chunks[39_999])
    assert.equal(manifest.size, size)
  })

  it('answers not-found for an unknown etag', async () => {
    const { server, client } = await pair()
    await assert.rejects(client.services.manifest.fetchManifest(server.getMultiaddrs(), ETAG_A), {
      name: 'NotFoundError',
    })
  })

  describe('a lying server is caught', () => {
    async function fetchLie(edit: (m: { size: number; xetHash: Uint8Array; chunks: ChunkRef[] }) => void) {
      const sources = new MemorySources()
      const blob = await makeBlob(ETAG_A, [1000, 2000, 3000])
      edit(blob.manifest)
      sources.addBlob(blob)
      const { server, client } = await pair(sources)
      return client.services.manifest.fetchManifest(server.getMultiaddrs(), ETAG_A)
    }

    it('chunk lengths that do not sum to the size', async () => {
      await assert.rejects(
        fetchLie((m) => (m.size = 6001)),
        (err: Error & { peer?: string }) =>
          err.name === 'BadManifestError' && /sum to 6000/.test(err.message),
      )
    })

    it('chunks that do not hash to the xetHash', async () => {
      await assert.rejects(
        fetchLie((m) => (m.chunks[1] = { ...m.chunks[1], hash: new Uint8Array(32).fill(7) })),
        { name: 'BadManifestError' },
      )
    })

    it('a chunk length out of range', async () => {
      await assert.rejects(
        fetchLie((m) => {
          m.chunks = [{ ...m.chunks[0], length: 0 }, m.chunks[1], { ...m.chunks[2], length: 4000 }]
          m.xetHash = fileHash(m.chunks)
        }),
        /chunk 0 has length 0/,
      )
    })

    it('more chunks than the size allows', async () => {
      await assert.rejects(
        fetchLie((m) => (m.size = 2)),
        /3 chunks cannot hold 2 bytes/,
      )
    })

    it('a manifest that differs from the Hub xetHash the caller knows', async () => {
      const sources = new MemorySources()
      const blob = await makeBlob(ETAG_A, [1000])
      sources.addBlob(blob)
      const { server, client } = await pair(sources)
      const err = await client.services.manifest
        .fetchManifest(server.getMultiaddrs(), ETAG_A, { xetHash: new Uint8Array(32).fill(1) })
        .then(
          () => assert.fail('accepted a manifest that differs from the known xetHash'),
          (e: unknown) => e as Error & { peer: string },
        )
      assert.equal(err.name, 'BadManifestError')
      assert.equal(err.peer, server.peerId.toString())
    })
  })

  it('rejects a malformed listing from a raw server', async () => {
    const server = await createNode({})
    const { client } = await pair()
    const bad = [
      { type: 'snapshot', commit: 'main', files: [] },
      { type: 'snapshot', commit: COMMIT, files: [{ path: 'a', etag: 'xyz', size: 1, xetHash: null }] },
      { type: 'snapshot', commit: COMMIT, files: [{ path: 'a', etag: ETAG_A, size: -1, xetHash: null }] },
      { type: 'snapshot', commit: COMMIT, files: [], extra: 1 },
    ]
    let next = 0
    await server.handle(MANIFEST_PROTOCOL, async (stream) => {
      const lp = lpStream(stream)
      await lp.read()
      await lp.write(encode(bad[next++]))
      await stream.close()
    })
    for (let i = 0; i < bad.length; i++) {
      await assert.rejects(client.services.manifest.fetchSnapshot(server.getMultiaddrs(), REPO, 'main'), {
        name: 'ProtocolError',
      })
    }
  })

  it('times out on a raw server that never answers', async () => {
    const server = await createNode({})
    await server.handle(MANIFEST_PROTOCOL, () => {})
    const client = await createNode({
      manifest: manifestProtocol({
        snapshots: new MemorySources(),
        manifests: new MemorySources(),
        messageTimeout: 300,
      }),
    })
    await assert.rejects(client.services.manifest.fetchManifest(server.getMultiaddrs(), ETAG_A), {
      name: 'TimeoutError',
    })
  })

  it('aborts a malformed or oversized request and keeps serving others', async () => {
    const sources = new MemorySources()
    sources.snapshots.set('model/org/model@main', LISTING)
    const { server, client } = await pair(sources)

    const garbage = await openRaw(client, server, MANIFEST_PROTOCOL)
    await sendFrame(garbage, Uint8Array.of(0xff, 0x00, 0x13))
    assert.equal(await waitForReset(garbage), 'reset')

    const wrongShape = await openRaw(client, server, MANIFEST_PROTOCOL)
    await sendFrame(
      wrongShape,
      encode({ type: 'snapshot', repoType: 'model', repoId: '../../etc', revision: 'main' }),
    )
    assert.equal(await waitForReset(wrongShape), 'reset')

    const oversized = await openRaw(client, server, MANIFEST_PROTOCOL)
    sendLengthPrefix(oversized, 1 << 20)
    assert.equal(await waitForReset(oversized), 'reset')

    assert.deepEqual(
      await client.services.manifest.fetchSnapshot(server.getMultiaddrs(), REPO, 'main'),
      LISTING,
    )
  })

  it('start and stop are harmless twice', async () => {
    const sources = new MemorySources()
    sources.snapshots.set('model/org/model@main', LISTING)
    const { server, client } = await pair(sources)
    await server.services.manifest.start()
    await server.services.manifest.stop()
    await server.services.manifest.stop()
    await assert.rejects(client.services.manifest.fetchSnapshot(server.getMultiaddrs(), REPO, 'main'), {
      name: 'UnsupportedProtocolError',
    })
    await server.services.manifest.start()
    await server.services.manifest.start()
    assert.deepEqual(
      await client.services.manifest.fetchSnapshot(server.getMultiaddrs(), REPO, 'main'),
      LISTING,
    )
  })
})
