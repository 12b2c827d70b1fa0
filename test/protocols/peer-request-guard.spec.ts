import assert from 'node:assert/strict'
import { CHUNKS_PROTOCOL, chunksProtocol, type ChunksProtocol } from '../../src/protocols/chunks/index.ts'
import { encodeWant } from '../../src/protocols/chunks/messages.ts'
import type { RequestLimits } from '../../src/protocols/wire/index.ts'
import { ETAG_A, MemorySources, makeBlob, waitFor, type TestBlob } from './fixtures.ts'
import { useNodes } from './nodes.ts'
import { openRaw, sendFrame, waitForReset } from './raw-stream.ts'
import type { Libp2p, Stream } from '@libp2p/interface'
import { joinParts } from '../../src/store/byte-parts.ts'

type ChunksNode = Libp2p<{ chunks: ChunksProtocol }>

const LIMITS: Partial<RequestLimits> = {
  maxInFlight: 4,
  ratePerSec: 20,
  burst: 5,
  maxRefusals: 8,
  refusalWindowMs: 10_000,
  banMs: 4_000,
}

describe('per-peer request limits of a protocol server (issue 8)', function () {
  this.timeout(30_000)
  const createNode = useNodes()
  let blob: TestBlob

  before(async () => {
    blob = await makeBlob(ETAG_A, [65_536, 30_000, 1_000])
  })

  async function server(): Promise<ChunksNode> {
    const sources = new MemorySources()
    sources.addBlob(blob)
    return await createNode({ chunks: chunksProtocol({ chunks: sources, requestLimits: LIMITS }) })
  }

  async function client(): Promise<ChunksNode> {
    return await createNode({ chunks: chunksProtocol({ chunks: new MemorySources() }) })
  }

  async function pullAll(from: ChunksNode, to: ChunksNode): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    const hashes = blob.manifest.chunks.map((c) => c.hash)
    for await (const answer of from.services.chunks.fetchChunks(to.getMultiaddrs(), hashes)) {
      assert.ok('data' in answer)
      out.push(joinParts(answer.data))
    }
    return out
  }

  it('throttles a peer over the request rate: its requests wait, none is refused', async () => {
    const node = await server()
    const peer = await client()
    const started = performance.now()
    // burst 5 then 20 per second: 15 requests need at least (15 - 5) / 20 = 0.5 s.
    for (let i = 0; i < 15; i++) assert.deepEqual(await pullAll(peer, node), blob.chunkData)
    const seconds = (performance.now() - started) / 1000
    assert.ok(seconds >= 0.45, `15 requests took ${seconds.toFixed(3)} s, expected the throttle to slow them`)
  })

  it('past the limit for all peers together, requests wait for a turn instead of failing', async () => {
    const sources = new MemorySources()
    sources.addBlob(blob)
    const node = await createNode({
      chunks: chunksProtocol({ chunks: sources, requestLimits: { ...LIMITS, maxInFlightTotal: 3 } }),
    })
    const staller = await client()
    const other = await client()
    const held: Stream[] = []
    for (let i = 0; i < 3; i++) held.push(await openRaw(staller, node, CHUNKS_PROTOCOL))
    let done = false
    const pulling = pullAll(other, node).finally(() => (done = true))
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(done, false, 'the request waits while the server is full')
    for (const stream of held) stream.abort(new Error('done stalling'))
    assert.deepEqual(await pulling, blob.chunkData, 'served once there is room')
    assert.equal(other.getConnections(node.peerId).length, 1, 'waiting counts against nobody')
  })

  it('refuses requests over the in-flight limit, then disconnects and bans the flooder; others are served', async () => {
    const node = await server()
    const flooder = await client()
    const good = await client()
    // Streams that never send their request hold their slot until the message timeout.
    const held: Stream[] = []
    for (let i = 0; i < LIMITS.maxInFlight!; i++) held.push(await openRaw(flooder, node, CHUNKS_PROTOCOL))
    const refused: Stream[] = []
    for (let i = 0; i < LIMITS.maxRefusals! - 1; i++) {
      const stream = await openRaw(flooder, node, CHUNKS_PROTOCOL)
      refused.push(stream)
      assert.equal(await waitForReset(stream), 'reset', `request ${i + 1} over the limit is refused`)
    }
    assert.equal(flooder.getConnections(node.peerId).length, 1, 'still connected below maxRefusals')
    assert.deepEqual(await pullAll(good, node), blob.chunkData, 'another peer is served meanwhile')

    // One refusal more: the connection goes.
    const last = await openRaw(flooder, node, CHUNKS_PROTOCOL).catch(() => null)
    if (last !== null) await waitForReset(last).catch(() => {})
    await waitFor(() => flooder.getConnections(node.peerId).length === 0, 5000, 'the flooder disconnected')
    for (const stream of held) assert.notEqual(stream.status, 'open', 'its held streams went with it')

    // Banned: a new connection's first stream closes it again; a well-formed request gets nothing.
    const retry = await openRaw(flooder, node, CHUNKS_PROTOCOL).catch(() => null)
    if (retry !== null) {
      let answered = 0
      retry.addEventListener('message', () => answered++)
      await sendFrame(retry, encodeWant([blob.manifest.chunks[0].hash])).catch(() => {})
      await waitFor(() => retry.status !== 'open', 5000, "the banned peer's stream closed")
      assert.equal(answered, 0, 'a banned peer gets no answer')
    }
    await waitFor(
      () => flooder.getConnections(node.peerId).length === 0,
      5000,
      'the banned peer disconnected',
    )
    assert.deepEqual(await pullAll(good, node), blob.chunkData, 'the well-behaved peer is still served')

    // The ban ends: the peer is served again.
    await new Promise((r) => setTimeout(r, LIMITS.banMs! + 200))
    assert.deepEqual(await pullAll(flooder, node), blob.chunkData, 'served again once the ban is over')
  })
})
