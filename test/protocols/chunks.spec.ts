import assert from 'node:assert/strict'
import { encode } from 'cborg'
import { lpStream } from '@libp2p/utils'
import {
  CHUNKS_PROTOCOL,
  chunksProtocol,
  type ChunksProtocol,
  type FetchedChunk,
} from '../../src/protocols/chunks/index.ts'
import { SEND_GROUP } from '../../src/protocols/chunks/constants.ts'
import type { ChunkReadOptions } from '../../src/protocols/sources.ts'
import {
  answerFramesInPlace,
  answerHeaderBytes,
  decodeAnswerParts,
} from '../../src/protocols/chunks/messages.ts'
import { INITIAL_WINDOW_GRANT } from '../../src/node/yamux-window-patch.ts'
import { ETAG_A, MemorySources, makeBlob, pseudoRandomBytes, type TestBlob } from './fixtures.ts'
import { useNodes } from './nodes.ts'
import { openRaw, sendFrame, sendLengthPrefix, waitForReset } from './raw-stream.ts'
import type { Libp2p } from '@libp2p/interface'
import { joinParts } from '../../src/store/byte-parts.ts'

type ChunksNode = Libp2p<{ chunks: ChunksProtocol }>

type JoinedAnswer = { hash: Uint8Array; data: Uint8Array } | { hash: Uint8Array; missing: true }

/** Every answer of a batch, each chunk's pieces joined. */
async function all(answers: AsyncIterable<FetchedChunk>): Promise<JoinedAnswer[]> {
  const out: JoinedAnswer[] = []
  for await (const answer of answers)
    out.push('data' in answer ? { hash: answer.hash, data: joinParts(answer.data) } : answer)
  return out
}

describe('chunks protocol', function () {
  this.timeout(15_000)
  const createNode = useNodes()
  let blob: TestBlob

  before(async () => {
    blob = await makeBlob(ETAG_A, [131_072, 65_536, 8_192, 1, 100_000, 70_000])
  })

  async function pair(
    sources: MemorySources,
    init: { messageTimeout?: number } = {},
  ): Promise<{ server: ChunksNode; client: ChunksNode }> {
    const server = await createNode({ chunks: chunksProtocol({ chunks: sources, ...init }) })
    const client = await createNode({ chunks: chunksProtocol({ chunks: new MemorySources() }) })
    return { server, client }
  }

  it('streams chunks and misses back in request order', async () => {
    const sources = new MemorySources()
    sources.addBlob(blob)
    const { server, client } = await pair(sources)
    const hashes = blob.manifest.chunks.map((c) => c.hash)
    const unknown = new Uint8Array(32).fill(9)
    const wanted = [hashes[4], unknown, hashes[0], hashes[3], hashes[1]]
    const answers = await all(client.services.chunks.fetchChunks(server.getMultiaddrs(), wanted))
    assert.deepEqual(answers, [
      { hash: hashes[4], data: blob.chunkData[4] },
      { hash: unknown, missing: true },
      { hash: hashes[0], data: blob.chunkData[0] },
      { hash: hashes[3], data: blob.chunkData[3] },
      { hash: hashes[1], data: blob.chunkData[1] },
    ])
  })

  it('sends groups that the source laid out with room for the headers as they are, and others copied', async () => {
    // A source like the node's: chunks it finds lie in one buffer with the bytes asked for before each.
    const sources = new MemorySources()
    sources.addBlob(blob)
    const laidOut: ArrayBuffer[] = []
    const source = {
      readChunk: async (hash: Uint8Array) => await sources.readChunk(hash),
      readChunks: async (hashes: readonly Uint8Array[], options?: ChunkReadOptions) => {
        const found = await Promise.all(hashes.map(async (h) => await sources.readChunk(h)))
        const reserve = options?.reserve
        if (reserve === undefined || found.includes(null)) return found
        const total = found.reduce(
          (sum, c) => sum + reserve((c as Uint8Array).length) + (c as Uint8Array).length,
          0,
        )
        const buffer = new ArrayBuffer(total)
        let at = 0
        const views = found.map((c) => {
          at += reserve((c as Uint8Array).length)
          const view = new Uint8Array(buffer, at, (c as Uint8Array).length)
          view.set(c as Uint8Array)
          at += view.length
          return view
        })
        laidOut.push(buffer)
        return views
      },
    }
    const server = await createNode({ chunks: chunksProtocol({ chunks: source, sendGroup: 2 }) })
    const client = await createNode({ chunks: chunksProtocol({ chunks: new MemorySources() }) })
    const hashes = blob.manifest.chunks.map((c) => c.hash)
    const unknown = new Uint8Array(32).fill(9)
    // Groups of two: [4, 0] and [3, 1] in place (sizes with 3-, 2- and 1-byte length prefixes), [unknown, 5]
    // copied, [2] in place.
    const wanted = [hashes[4], hashes[0], hashes[3], hashes[1], unknown, hashes[5], hashes[2]]
    const answers = await all(client.services.chunks.fetchChunks(server.getMultiaddrs(), wanted))
    assert.deepEqual(answers, [
      { hash: hashes[4], data: blob.chunkData[4] },
      { hash: hashes[0], data: blob.chunkData[0] },
      { hash: hashes[3], data: blob.chunkData[3] },
      { hash: hashes[1], data: blob.chunkData[1] },
      { hash: unknown, missing: true },
      { hash: hashes[5], data: blob.chunkData[5] },
      { hash: hashes[2], data: blob.chunkData[2] },
    ])
    // The server wrote each frame's header into the room before its chunk: the length prefix of the
    // frame (status byte and chunk; unsigned varint) and the status byte 0.
    assert.equal(laidOut.length, 3)
    const head = (buffer: ArrayBuffer, at: number, n: number): number[] => [...new Uint8Array(buffer, at, n)]
    assert.deepEqual(head(laidOut[0], 0, 4), [0xa1, 0x8d, 0x06, 0x00]) // 100,001 bytes
    assert.deepEqual(head(laidOut[0], 4 + 100_000, 4), [0x81, 0x80, 0x08, 0x00]) // 131,073
    assert.deepEqual(head(laidOut[1], 0, 2), [0x02, 0x00]) // 2
    assert.deepEqual(head(laidOut[1], 3, 4), [0x81, 0x80, 0x04, 0x00]) // 65,537
    assert.deepEqual(head(laidOut[2], 0, 3), [0x81, 0x40, 0x00]) // 8,193
  })

  it('decodes an answer in pieces without joining them, and refuses a malformed one', () => {
    const bytes = Uint8Array.of(0, 1, 2, 3, 4, 5)
    // The status byte alone in the first piece, or with the first bytes of the chunk.
    assert.deepEqual(decodeAnswerParts([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)]), {
      type: 'chunk',
      data: [Uint8Array.of(1, 2), Uint8Array.of(3, 4, 5)],
    })
    const parts = decodeAnswerParts([bytes.subarray(0, 2), bytes.subarray(2)])
    assert.deepEqual(parts, { type: 'chunk', data: [Uint8Array.of(1), Uint8Array.of(2, 3, 4, 5)] })
    assert.equal((parts as { data: Uint8Array[] }).data[1].buffer, bytes.buffer, 'a view, not a copy')
    assert.deepEqual(decodeAnswerParts([Uint8Array.of(1)]), { type: 'missing' })
    assert.throws(() => decodeAnswerParts([Uint8Array.of(1, 2), Uint8Array.of(3)]), { name: 'ProtocolError' })
    assert.throws(() => decodeAnswerParts([Uint8Array.of(0)]), { name: 'ProtocolError' })
    assert.throws(() => decodeAnswerParts([]), { name: 'ProtocolError' })
  })

  it('answerFramesInPlace takes only chunks that fill their buffer exactly, each after room for its header', () => {
    const layout = (sizes: number[], room: (n: number) => number, extra = 0): Uint8Array[] => {
      const buffer = new ArrayBuffer(sizes.reduce((sum, n) => sum + room(n) + n, 0) + extra)
      let at = 0
      return sizes.map((n) => {
        at += room(n)
        const view = new Uint8Array(buffer, at, n)
        at += n
        return view
      })
    }
    assert.ok(answerFramesInPlace(layout([5, 70_000], answerHeaderBytes)) !== null)
    assert.equal(answerFramesInPlace(layout([5, 70_000], answerHeaderBytes, 1)), null, 'a byte over')
    assert.equal(answerFramesInPlace(layout([5, 70_000], (n) => answerHeaderBytes(n) + 1)), null, 'more room')
    assert.equal(answerFramesInPlace([...layout([5], answerHeaderBytes), null]), null, 'a chunk missing')
    const two = [...layout([5], answerHeaderBytes), ...layout([6], answerHeaderBytes)]
    assert.equal(answerFramesInPlace(two), null, 'two buffers')
    assert.equal(answerFramesInPlace([]), null)
  })

  it('refuses a batch larger than the limit before sending it', async () => {
    const { server, client } = await pair(new MemorySources())
    const hashes = Array.from({ length: 65 }, () => new Uint8Array(32))
    await assert.rejects(all(client.services.chunks.fetchChunks(server.getMultiaddrs(), hashes)), {
      name: 'InvalidParametersError',
    })
  })

  it('catches a server that sends the wrong bytes, after the good chunks before it', async () => {
    const sources = new MemorySources()
    sources.addBlob(blob)
    const hashes = blob.manifest.chunks.map((c) => c.hash)
    sources.chunks.set(Buffer.from(hashes[2]).toString('hex'), pseudoRandomBytes(8_192, 404))
    const { server, client } = await pair(sources)
    const received: FetchedChunk[] = []
    await assert.rejects(
      (async () => {
        for await (const answer of client.services.chunks.fetchChunks(server.getMultiaddrs(), hashes)) {
          received.push(answer)
        }
      })(),
      (err: Error & { peer?: string; hash?: Uint8Array }) => {
        assert.equal(err.name, 'BadChunkError')
        assert.equal(err.peer, server.peerId.toString())
        assert.deepEqual(err.hash, hashes[2])
        return true
      },
    )
    assert.equal(received.length, 2)
  })

  it('rejects malformed and oversized answers from a raw server', async () => {
    const server = await createNode({})
    const { client } = await pair(new MemorySources())
    const answers = [Uint8Array.of(7, 1, 2), Uint8Array.of(0), new Uint8Array(1 + 131_072 + 1)]
    let next = 0
    await server.handle(CHUNKS_PROTOCOL, async (stream) => {
      const lp = lpStream(stream)
      await lp.read()
      await lp.write(answers[next++]).catch(() => {})
    })
    const fetch = (): Promise<JoinedAnswer[]> =>
      all(client.services.chunks.fetchChunks(server.getMultiaddrs(), [blob.manifest.chunks[0].hash]))
    await assert.rejects(fetch(), { name: 'ProtocolError' })
    await assert.rejects(fetch(), { name: 'ProtocolError' })
    await assert.rejects(fetch(), { name: 'MessageTooLargeError' })
  })

  it('cancels mid-batch through the signal, and leaving the loop early resets the stream', async () => {
    const sources = new MemorySources()
    sources.addBlob(blob)
    const { server, client } = await pair(sources)
    const hashes = blob.manifest.chunks.map((c) => c.hash)

    const controller = new AbortController()
    const seen: FetchedChunk[] = []
    await assert.rejects(
      (async () => {
        for await (const answer of client.services.chunks.fetchChunks(server.getMultiaddrs(), hashes, {
          signal: controller.signal,
        })) {
          seen.push(answer)
          controller.abort()
        }
      })(),
      { name: 'AbortError' },
    )
    assert.equal(seen.length, 1)

    for await (const answer of client.services.chunks.fetchChunks(server.getMultiaddrs(), hashes)) {
      assert.ok('data' in answer)
      break
    }

    const answers = await all(client.services.chunks.fetchChunks(server.getMultiaddrs(), hashes))
    assert.equal(answers.length, hashes.length)
  })

  it('aborts a malformed, oversized or too large request and keeps serving others', async () => {
    const sources = new MemorySources()
    sources.addBlob(blob)
    const { server, client } = await pair(sources)
    const bad = [
      encode({ type: 'want', hashes: [] }),
      encode({ type: 'want', hashes: [new Uint8Array(31)] }),
      encode({ type: 'want', hashes: Array.from({ length: 65 }, () => new Uint8Array(32)) }),
      encode({ type: 'gimme', hashes: [new Uint8Array(32)] }),
      Uint8Array.of(0xa1, 0x61),
    ]
    for (const payload of bad) {
      const stream = await openRaw(client, server, CHUNKS_PROTOCOL)
      await sendFrame(stream, payload)
      assert.equal(await waitForReset(stream), 'reset')
    }
    const oversized = await openRaw(client, server, CHUNKS_PROTOCOL)
    sendLengthPrefix(oversized, 1 << 24)
    assert.equal(await waitForReset(oversized), 'reset')

    const answers = await all(
      client.services.chunks.fetchChunks(server.getMultiaddrs(), [blob.manifest.chunks[5].hash]),
    )
    assert.deepEqual(answers, [{ hash: blob.manifest.chunks[5].hash, data: blob.chunkData[5] }])
  })

  it('does not read ahead for a client that stops reading, and drops it after the timeout', async () => {
    const big = await makeBlob(
      ETAG_A,
      Array.from({ length: 64 }, () => 120_000),
      3,
    )
    const sources = new MemorySources()
    sources.addBlob(big)
    const { server, client } = await pair(sources, { messageTimeout: 300 })
    const stream = await openRaw(client, server, CHUNKS_PROTOCOL)
    stream.pause() // nothing read: yamux grants the server no more window than the first one
    await sendFrame(stream, encode({ type: 'want', hashes: big.manifest.chunks.map((c) => c.hash) }))
    assert.equal(await waitForReset(stream), 'reset')
    // What the window of a new stream let through (2 MiB: 18 chunks of 120 kB), the group waiting for drain
    // until the timeout and the one read ahead: at most that and three groups, not the batch.
    const bound = Math.ceil(INITIAL_WINDOW_GRANT / 120_000) + 3 * SEND_GROUP
    assert.ok(sources.chunkReads <= bound, `server read ${sources.chunkReads} of 64 chunks`)
  })

  it('start and stop are harmless twice', async () => {
    const sources = new MemorySources()
    sources.addBlob(blob)
    const { server, client } = await pair(sources)
    const hash = blob.manifest.chunks[3].hash
    await server.services.chunks.stop()
    await server.services.chunks.stop()
    await assert.rejects(all(client.services.chunks.fetchChunks(server.getMultiaddrs(), [hash])), {
      name: 'UnsupportedProtocolError',
    })
    await server.services.chunks.start()
    await server.services.chunks.start()
    assert.deepEqual(await all(client.services.chunks.fetchChunks(server.getMultiaddrs(), [hash])), [
      { hash, data: blob.chunkData[3] },
    ])
  })
})
