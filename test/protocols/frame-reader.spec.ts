import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { streamPair } from '@libp2p/utils'
import { FrameReader } from '../../src/protocols/wire/frame-reader.ts'

const LIMITS = { maxMessageBytes: 1 << 20, maxBufferedBytes: 2 << 20 }

/** `n` as an unsigned varint. */
function varint(n: number): Uint8Array {
  const out: number[] = []
  for (; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) | 0x80)
  out.push(n)
  return Uint8Array.from(out)
}

function frame(message: Uint8Array): Uint8Array {
  return Buffer.concat([varint(message.byteLength), message])
}

describe('frame reader', () => {
  it('reads messages whose prefix and body arrive split at every byte, and several in one piece', async () => {
    const [a, b] = await streamPair()
    const reader = new FrameReader(b, LIMITS)
    const big = new Uint8Array(70_000).map((_, i) => (i * 7) % 256) // 3-byte prefix
    const bigFrame = frame(big)
    // The prefix and the first bytes one at a time, then the rest in uneven pieces.
    for (let i = 0; i < 8; i++) a.send(bigFrame.subarray(i, i + 1))
    for (let at = 8; at < bigFrame.byteLength; at += 9_999) a.send(bigFrame.subarray(at, at + 9_999))
    a.send(Buffer.concat([frame(Uint8Array.of(1, 2)), frame(new Uint8Array(0)), frame(Uint8Array.of(3))]))
    assert.deepEqual(await reader.read(), big)
    assert.deepEqual(await reader.read(), Uint8Array.of(1, 2))
    assert.deepEqual(await reader.read(), new Uint8Array(0))
    assert.deepEqual(await reader.read(), Uint8Array.of(3))
    await a.close()
    await assert.rejects(reader.read(), { name: 'StreamEndedError', message: /before a message/ })
  })

  it('hands a message out as the pieces it came in, not joined', async () => {
    const [a, b] = await streamPair()
    const reader = new FrameReader(b, LIMITS)
    const big = new Uint8Array(70_000).map((_, i) => (i * 7) % 256)
    const bigFrame = frame(big)
    // The 3-byte prefix and 20,000 bytes, then the rest in two pieces; then one whole small message.
    const pieces = [
      bigFrame.subarray(0, 20_003),
      bigFrame.subarray(20_003, 50_000),
      bigFrame.subarray(50_000),
    ]
    for (const piece of pieces) a.send(piece)
    a.send(frame(Uint8Array.of(4, 5)))
    const parts = await reader.readParts()
    assert.deepEqual(
      parts.map((p) => p.byteLength),
      [20_000, 29_997, 20_003],
    )
    assert.deepEqual(Buffer.concat(parts), Buffer.from(big))
    assert.deepEqual(await reader.readParts(), [Uint8Array.of(4, 5)])
    await a.close()
    await assert.rejects(reader.readParts(), { name: 'StreamEndedError' })
  })

  it('refuses a length prefix longer than five bytes, and a message over the limit', async () => {
    const [a, b] = await streamPair()
    a.send(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01))
    await assert.rejects(new FrameReader(b, LIMITS).read(), { name: 'ProtocolError' })
    const [c, d] = await streamPair()
    c.send(varint(LIMITS.maxMessageBytes + 1))
    await assert.rejects(new FrameReader(d, LIMITS).read(), { name: 'MessageTooLargeError' })
  })

  it('aborts the stream when more than maxBufferedBytes wait unread', async () => {
    const [a, b] = await streamPair()
    const reader = new FrameReader(b, { maxMessageBytes: 1000, maxBufferedBytes: 4000 })
    for (let i = 0; i < 5; i++) a.send(frame(new Uint8Array(999)))
    await sleep(50)
    // What was buffered before the overflow is not handed out: the stream is gone.
    await assert.rejects(reader.read(), { name: 'MessageTooLargeError' })
    assert.equal(b.status, 'aborted')
  })

  it('tells an end inside a message from a clean end', async () => {
    const [a, b] = await streamPair()
    const reader = new FrameReader(b, LIMITS)
    a.send(frame(new Uint8Array(100)).subarray(0, 50))
    await a.close()
    await assert.rejects(reader.read(), { name: 'StreamEndedError', message: /inside a message \(50 bytes/ })
  })

  it('reads what the remote sent and closed before the reader listened, then ends', async () => {
    const [a, b] = await streamPair()
    a.send(Buffer.concat([frame(Uint8Array.of(9)), frame(Uint8Array.of(8, 7))]))
    await a.close()
    await sleep(20)
    const reader = new FrameReader(b, LIMITS)
    assert.deepEqual(await reader.read(), Uint8Array.of(9))
    assert.deepEqual(await reader.read(), Uint8Array.of(8, 7))
    await assert.rejects(reader.read(), { name: 'StreamEndedError' })
  })

  it('gives up a wait when the signal aborts, and reads on afterwards', async () => {
    const [a, b] = await streamPair()
    const reader = new FrameReader(b, LIMITS)
    const controller = new AbortController()
    const waiting = reader.read(controller.signal)
    controller.abort(new Error('caller gave up'))
    await assert.rejects(waiting, { message: 'caller gave up' })
    a.send(frame(Uint8Array.of(5)))
    assert.deepEqual(await reader.read(), Uint8Array.of(5))
  })
})
