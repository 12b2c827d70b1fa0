import assert from 'node:assert/strict'
import { encode } from 'cborg'
import { lpStream } from '@libp2p/utils'
import {
  HAVE_PROTOCOL,
  haveProtocol,
  type HaveProtocol,
  type HaveSubscription,
} from '../../src/protocols/have/index.ts'
import { ETAG_A, ETAG_B, MemorySources, waitFor } from './fixtures.ts'
import { useNodes } from './nodes.ts'
import { openRaw, sendFrame, sendLengthPrefix, waitForReset } from './raw-stream.ts'
import type { Libp2p } from '@libp2p/interface'

type HaveNode = Libp2p<{ have: HaveProtocol }>

/** Reads updates until `count` distinct indices arrived. */
async function collect(subscription: HaveSubscription, count: number): Promise<number[]> {
  const seen: number[] = []
  for await (const indices of subscription) {
    seen.push(...indices)
    if (seen.length >= count) break
  }
  return seen
}

function haveMapOf(chunkCount: number, held: number[]): { chunkCount: number; bits: Uint8Array } {
  const bits = new Uint8Array(Math.ceil(chunkCount / 8))
  for (const i of held) bits[i >> 3] |= 1 << (i & 7)
  return { chunkCount, bits }
}

describe('have protocol', function () {
  this.timeout(15_000)
  const createNode = useNodes()

  async function pair(
    sources: MemorySources,
    init: { messageTimeout?: number; maxSubscriptionsPerPeer?: number } = {},
  ): Promise<{ server: HaveNode; client: HaveNode }> {
    const server = await createNode({ have: haveProtocol({ haves: sources, ...init }) })
    const client = await createNode({ have: haveProtocol({ haves: new MemorySources() }) })
    return { server, client }
  }

  it('sends the have-map, then the chunks announced afterwards', async () => {
    const sources = new MemorySources()
    sources.haveMaps.set(ETAG_A, haveMapOf(20, [0, 1, 9]))
    const { server, client } = await pair(sources)
    const sub = await client.services.have.subscribeHave(server.getMultiaddrs(), ETAG_A)
    assert.deepEqual(sub.haveMap, haveMapOf(20, [0, 1, 9]))
    assert.equal(sub.remotePeer.toString(), server.peerId.toString())

    sources.announce(ETAG_A, [3, 9, 19]) // 9 was already held: not repeated
    assert.deepEqual(await collect(sub, 2), [3, 19])
    sources.announce(ETAG_A, [4])
    assert.deepEqual(await collect(sub, 1), [4])
    assert.deepEqual(sub.haveMap, haveMapOf(20, [0, 1, 3, 4, 9, 19]))
    assert.ok(sub.has(19) && !sub.has(5) && !sub.has(20))
    sub.close()
    await waitFor(() => sources.subscriberCount(ETAG_A) === 0, 5000, 'server still subscribed')
    assert.equal(server.services.have.servingCount, 0)
  })

  it('splits a large announcement into several updates', async () => {
    const sources = new MemorySources()
    sources.haveMaps.set(ETAG_A, haveMapOf(10_000, []))
    const { server, client } = await pair(sources)
    const sub = await client.services.have.subscribeHave(server.getMultiaddrs(), ETAG_A)
    sources.announce(
      ETAG_A,
      Array.from({ length: 10_000 }, (_, i) => i),
    )
    const seen = await collect(sub, 10_000)
    assert.deepEqual(
      seen,
      Array.from({ length: 10_000 }, (_, i) => i),
    )
    sub.close()
  })

  it('answers not-found for a blob it has no map of', async () => {
    const { server, client } = await pair(new MemorySources())
    await assert.rejects(client.services.have.subscribeHave(server.getMultiaddrs(), ETAG_B), {
      name: 'NotFoundError',
    })
  })

  it('cancels through the signal, and the server unsubscribes', async () => {
    const sources = new MemorySources()
    sources.haveMaps.set(ETAG_A, haveMapOf(8, []))
    const { server, client } = await pair(sources)
    const controller = new AbortController()
    const sub = await client.services.have.subscribeHave(server.getMultiaddrs(), ETAG_A, {
      signal: controller.signal,
    })
    const iterating = collect(sub, 100)
    setTimeout(() => controller.abort(), 50)
    await assert.rejects(iterating, { name: 'AbortError' })
    await waitFor(() => sources.subscriberCount(ETAG_A) === 0, 5000, 'server still subscribed')
  })

  it('ends the subscriptions it serves when stopped', async () => {
    const sources = new MemorySources()
    sources.haveMaps.set(ETAG_A, haveMapOf(8, []))
    const { server, client } = await pair(sources)
    const sub = await client.services.have.subscribeHave(server.getMultiaddrs(), ETAG_A)
    const iterating = collect(sub, 100)
    await server.services.have.stop()
    assert.deepEqual(await iterating, [])
    assert.equal(sources.subscriberCount(ETAG_A), 0)
  })

  it('bounds the subscriptions of one peer', async () => {
    const sources = new MemorySources()
    sources.haveMaps.set(ETAG_A, haveMapOf(8, []))
    sources.haveMaps.set(ETAG_B, haveMapOf(8, []))
    const { server, client } = await pair(sources, { maxSubscriptionsPerPeer: 2 })
    const subscribe = (etag: string): Promise<HaveSubscription> =>
      client.services.have.subscribeHave(server.getMultiaddrs(), etag)
    const first = await subscribe(ETAG_A)
    await subscribe(ETAG_B)
    await assert.rejects(subscribe(ETAG_A), { name: 'BusyError' })
    first.close()
    await waitFor(() => server.services.have.servingCount === 1, 5000, 'first subscription still served')
    const again = await subscribe(ETAG_A)
    sources.announce(ETAG_A, [7])
    assert.deepEqual(await collect(again, 1), [7])
  })

  it('rejects an update that names a chunk past the map', async () => {
    const server = await createNode({})
    const client = await createNode({ have: haveProtocol({ haves: new MemorySources() }) })
    await server.handle(HAVE_PROTOCOL, async (stream) => {
      const lp = lpStream(stream)
      await lp.read()
      await lp.write(encode({ type: 'have', chunkCount: 4, bits: Uint8Array.of(1) }))
      await lp.write(encode({ type: 'update', indices: [4] }))
    })
    const sub = await client.services.have.subscribeHave(server.getMultiaddrs(), ETAG_A)
    await assert.rejects(collect(sub, 1), { name: 'ProtocolError' })
  })

  it('aborts a malformed or oversized request and keeps serving others', async () => {
    const sources = new MemorySources()
    sources.haveMaps.set(ETAG_A, haveMapOf(8, [2]))
    const { server, client } = await pair(sources)

    const malformed = await openRaw(client, server, HAVE_PROTOCOL)
    await sendFrame(malformed, encode({ type: 'have', etag: 'not-an-etag' }))
    assert.equal(await waitForReset(malformed), 'reset')

    const oversized = await openRaw(client, server, HAVE_PROTOCOL)
    sendLengthPrefix(oversized, 100_000)
    assert.equal(await waitForReset(oversized), 'reset')

    const sub = await client.services.have.subscribeHave(server.getMultiaddrs(), ETAG_A)
    assert.deepEqual(sub.haveMap, haveMapOf(8, [2]))
    sub.close()
  })

  it('drops a subscriber that stops reading instead of queueing for it', async () => {
    const sources = new MemorySources()
    // ~4.9 MB of updates: more than the 2 MiB window a stream grants (yamux-window-patch.ts).
    const chunkCount = 1_000_000
    sources.haveMaps.set(ETAG_A, haveMapOf(chunkCount, []))
    const { server, client } = await pair(sources, { messageTimeout: 300 })
    const stream = await openRaw(client, server, HAVE_PROTOCOL)
    await sendFrame(stream, encode({ type: 'have', etag: ETAG_A }))
    await waitFor(() => server.services.have.servingCount === 1, 5000, 'subscription not served')
    stream.pause() // stop reading: yamux stops granting the server window
    for (let at = 0; at < chunkCount; at += 10_000) {
      sources.announce(
        ETAG_A,
        Array.from({ length: 10_000 }, (_, i) => at + i),
      )
    }
    await waitFor(() => server.services.have.servingCount === 0, 5000, 'stalled subscriber still served')
    assert.equal(sources.subscriberCount(ETAG_A), 0)
    assert.equal(await waitForReset(stream), 'reset')
  })

  it('start and stop are harmless twice', async () => {
    const sources = new MemorySources()
    sources.haveMaps.set(ETAG_A, haveMapOf(8, [1]))
    const { server, client } = await pair(sources)
    await server.services.have.stop()
    await server.services.have.stop()
    await assert.rejects(client.services.have.subscribeHave(server.getMultiaddrs(), ETAG_A), {
      name: 'UnsupportedProtocolError',
    })
    await server.services.have.start()
    await server.services.have.start()
    const sub = await client.services.have.subscribeHave(server.getMultiaddrs(), ETAG_A)
    assert.equal(sub.has(1), true)
    sub.close()
  })
})
