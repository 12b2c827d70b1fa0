import assert from 'node:assert/strict'
import { streamPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { FramedStream } from '../../src/protocols/wire/framed-stream.ts'

const OPTIONS = { maxMessageBytes: 1 << 20, maxBufferedBytes: 4 << 20, messageTimeout: 2_000 }

async function pair(): Promise<[FramedStream, FramedStream]> {
  const [a, b] = await streamPair()
  return [new FramedStream(a, OPTIONS), new FramedStream(b, OPTIONS)]
}

describe('framed stream', () => {
  it('sends several messages in one go, each read back as its own frame', async () => {
    const [writer, reader] = await pair()
    const big = new Uint8Array(70_000).map((_, i) => i % 251) // a 3-byte length prefix
    const messages = [
      Uint8Array.of(1),
      new Uint8ArrayList(Uint8Array.of(0), big),
      new Uint8Array(0),
      new Uint8Array(200).fill(7), // a 2-byte length prefix
    ]
    await writer.writeMany(messages)
    for (const m of messages) {
      assert.deepEqual(await reader.read(), m instanceof Uint8Array ? m : m.subarray())
    }
  })

  it('fails a read through an aborted signal even when the message is already buffered', async () => {
    const [writer, reader] = await pair()
    await writer.writeMany([Uint8Array.of(1), Uint8Array.of(2)])
    assert.deepEqual(await reader.read(), Uint8Array.of(1))
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(reader.read({ signal: controller.signal }), { name: 'AbortError' })
    assert.deepEqual(await reader.read(), Uint8Array.of(2))
  })

  it('times a read out per message, and tells that apart from the caller aborting', async () => {
    const [, reader] = await pair()
    await assert.rejects(reader.read({ timeout: 50 }), { name: 'TimeoutError' })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)
    await assert.rejects(reader.read({ signal: controller.signal, timeout: 5_000 }), { name: 'AbortError' })
  })

  it('times each read out by its own deadline, and reads on after a timeout', async () => {
    const [writer, reader] = await pair()
    // A read with a long timeout that gets its message, then one with a short timeout: the timer armed
    // for the first must not hold the second for 10 s.
    setTimeout(() => void writer.write(Uint8Array.of(1)), 20)
    assert.deepEqual(await reader.read({ timeout: 10_000 }), Uint8Array.of(1))
    const started = performance.now()
    await assert.rejects(reader.read({ timeout: 50 }), { name: 'TimeoutError', message: /after 50 ms/ })
    assert.ok(performance.now() - started < 2_000, `timed out after ${performance.now() - started} ms`)
    // The next read waits again, past the earlier deadline, and gets what comes.
    setTimeout(() => void writer.write(Uint8Array.of(2)), 100)
    assert.deepEqual(await reader.read({ timeout: 5_000 }), Uint8Array.of(2))
  })
})
