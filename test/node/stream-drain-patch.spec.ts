import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { useNodes } from '../protocols/nodes.ts'

const PROTOCOL = '/test/drain/1.0.0'

describe('stream drain (patch)', function () {
  this.timeout(20_000)
  const make = useNodes()

  it('after a first drain, onDrain() waits for the next one instead of resolving at once', async () => {
    const [sender, receiver] = await Promise.all([make({}), make({})])
    let remote: Stream | undefined
    await receiver.handle(PROTOCOL, (stream) => {
      stream.pause() // nothing read: no window update, the sender fills its window and waits
      remote = stream
    })
    const stream = await sender.dialProtocol(receiver.getMultiaddrs(), PROTOCOL)
    const piece = new Uint8Array(64 * 1024)
    const fill = (): number => {
      let sent = 0
      while (stream.send(piece)) sent++
      return sent
    }
    // How FramedStream waits: a drain of the connection reaches every stream on it, so after each one
    // the stream may find it still cannot send, and waits again.
    const drained = async (): Promise<void> => {
      for (let turns = 0; turns < 1000; turns++) {
        await stream.onDrain()
        if (!stream.writableNeedsDrain) return
      }
      throw new Error('onDrain() resolved 1000 times in a row without this stream draining')
    }
    const within = async (promise: Promise<void>, ms: number): Promise<'drained' | 'waiting'> =>
      await Promise.race([
        promise.then(() => 'drained' as const),
        new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), ms)),
      ])

    for (const round of ['first', 'second']) {
      fill()
      assert.equal(stream.writableNeedsDrain, true)
      // Without the patch the second round threw: onDrain() handed out the first drain's promise again.
      const wait = drained()
      assert.equal(await within(wait, 300), 'waiting', `${round} wait ended while the reader read nothing`)
      assert.ok(remote !== undefined)
      remote.resume()
      assert.equal(await within(wait, 5000), 'drained', `no ${round} drain once the reader reads`)
      remote.pause()
      await new Promise((resolve) => setTimeout(resolve, 200)) // what was in flight arrives
    }
  })
})
