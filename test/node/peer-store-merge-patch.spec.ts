import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Peer, PeerData, PeerId, PeerStore, PeerUpdate } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createHffsNode, type HffsLibp2p } from '../../src/node/libp2p-node.ts'
import { skipRedundantProtocolMerges } from '../../src/node/peer-store-merge-patch.ts'

/** A peer store that keeps protocols only, counts the merges that reach it, and emits peer:update. */
function fakeOwner() {
  const records = new Map<string, Peer>()
  const listeners: ((evt: CustomEvent<PeerUpdate>) => void)[] = []
  const reached: PeerData[] = []
  const update = (id: PeerId, protocols: string[]): Peer => {
    const previous = records.get(id.toString())
    const peer = { id, protocols, addresses: [], metadata: new Map(), tags: new Map() } as Peer
    records.set(id.toString(), peer)
    const changed = previous === undefined || previous.protocols.join() !== protocols.join()
    if (changed) for (const l of listeners) l(new CustomEvent('peer:update', { detail: { peer, previous } }))
    return peer
  }
  const peerStore = {
    async merge(id: PeerId, data: PeerData) {
      reached.push(data)
      const have = records.get(id.toString())?.protocols ?? []
      return update(id, [...new Set([...have, ...(data.protocols ?? [])])].sort())
    },
    async patch(id: PeerId, data: PeerData) {
      return update(id, [...(data.protocols ?? [])].sort())
    },
    async delete(id: PeerId) {
      records.delete(id.toString())
    },
  } as unknown as PeerStore
  const owner = {
    peerStore,
    addEventListener: (_type: 'peer:update', l: (evt: CustomEvent<PeerUpdate>) => void) => listeners.push(l),
  }
  return { owner, reached, records }
}

describe('peer store: merges that only repeat known protocols are skipped', function () {
  this.timeout(30_000)

  it('skips them until the record changes, is deleted or is a minute old; everything else goes through', async () => {
    const { owner, reached, records } = fakeOwner()
    let clock = 0
    skipRedundantProtocolMerges(owner, () => clock)
    const store = owner.peerStore
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

    await store.merge(id, { protocols: ['/a'] })
    assert.equal(reached.length, 1, 'an unknown peer goes to the store')
    const answered = await store.merge(id, { protocols: ['/a'] })
    assert.equal(reached.length, 1, 'a protocol it lists already does not')
    assert.deepEqual(answered.protocols, ['/a'])
    assert.equal(answered.id.toString(), id.toString())

    await store.merge(id, { protocols: ['/b'] })
    assert.equal(reached.length, 2, 'a new protocol does')
    await store.merge(id, { protocols: ['/a'] })
    await store.merge(id, { protocols: ['/b'] })
    assert.equal(reached.length, 2)

    await store.merge(id, { protocols: ['/a'], metadata: { x: new Uint8Array([1]) } })
    assert.equal(reached.length, 3, 'a merge of anything besides protocols does')

    // identify replaces the list: /a is gone, so merging it must reach the store again
    await store.patch(id, { protocols: ['/b'] })
    await store.merge(id, { protocols: ['/a'] })
    assert.equal(reached.length, 4)
    assert.deepEqual(records.get(id.toString())?.protocols, ['/a', '/b'])

    await store.delete(id)
    await store.merge(id, { protocols: ['/a'] })
    assert.equal(reached.length, 5, 'after a delete')
    assert.deepEqual(records.get(id.toString())?.protocols, ['/a'])

    clock += 59_000
    await store.merge(id, { protocols: ['/a'] })
    assert.equal(reached.length, 5)
    clock += 2_000
    await store.merge(id, { protocols: ['/a'] })
    assert.equal(reached.length, 6, 'a minute after the last merge that reached it')
    await store.merge(id, { protocols: ['/a'] })
    assert.equal(reached.length, 6)
  })

  describe('between two real nodes', () => {
    const nodes: HffsLibp2p[] = []
    afterEach(async () => {
      await Promise.all(nodes.splice(0).map((n) => n.stop()))
    })

    it('one merge per protocol for 20 streams, and the peer store still lists it', async () => {
      const node = async (): Promise<HffsLibp2p> => {
        const n = await createHffsNode({
          privateKey: await generateKeyPair('Ed25519'),
          listen: ['/ip4/127.0.0.1/tcp/0'],
          mdns: false,
        })
        nodes.push(n)
        return n
      }
      const a = await node()
      const b = await node()
      const protocol = '/hffs-test/echo/1.0.0'
      await b.handle(protocol, async (stream) => {
        for await (const chunk of stream) stream.send(chunk)
        await stream.close()
      })
      // Count the merges of that protocol that get past the patch to the store's records, on both ends.
      const counts = new Map<string, number>()
      for (const [name, n] of [
        ['a', a],
        ['b', b],
      ] as const) {
        const inner = (n.peerStore as unknown as { store: { merge: PeerStore['merge'] } }).store
        const original = inner.merge.bind(inner)
        inner.merge = async (id, data, options) => {
          if (data.protocols?.includes(protocol) === true) counts.set(name, (counts.get(name) ?? 0) + 1)
          return await original(id, data, options)
        }
      }
      await a.dial(b.getMultiaddrs()[0])
      for (let i = 0; i < 20; i++) {
        const stream = await a.dialProtocol(b.peerId, protocol)
        stream.send(new Uint8Array([i]))
        await stream.close()
        for await (const echoed of stream) assert.equal(echoed.subarray()[0], i)
      }
      assert.ok((counts.get('a') ?? 0) >= 1 && (counts.get('a') ?? 0) <= 2, `a: ${counts.get('a')} merges`)
      assert.ok((counts.get('b') ?? 0) >= 1 && (counts.get('b') ?? 0) <= 2, `b: ${counts.get('b')} merges`)
      assert.ok((await a.peerStore.get(b.peerId)).protocols.includes(protocol))
      assert.ok((await b.peerStore.get(a.peerId)).protocols.includes(protocol))
    })
  })
})
