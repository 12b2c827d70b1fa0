import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { Socket } from 'node:net'
import { receiveAll, useNodes } from '../protocols/nodes.ts'

const PROTOCOL = '/test/bulk/1.0.0'
/** Noise's largest message: 8 MiB is at least this many. */
const NOISE_MESSAGE = 65535

describe('TCP writes (patch)', function () {
  this.timeout(20_000)
  const make = useNodes()
  const socketProto = Socket.prototype as unknown as Record<
    '_write' | '_writev',
    (...args: unknown[]) => unknown
  >
  const originals = { _write: socketProto._write, _writev: socketProto._writev }
  afterEach(async () => {
    Object.assign(socketProto, originals)
  })

  it('a bulk sender writes each Noise message with its length in one call, and every byte arrives', async () => {
    const [sender, receiver] = await Promise.all([make({}), make({})])
    const data = randomBytes(8 * 1024 * 1024)
    const received = receiveAll(receiver, PROTOCOL)
    const stream = await sender.dialProtocol(receiver.getMultiaddrs(), PROTOCOL)
    // Socket writes by both nodes from here on (in this process, only these two sockets carry data).
    let calls = 0
    let tiny = 0
    socketProto._write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      calls++
      if ((chunk as Uint8Array).byteLength <= 2) tiny++
      return originals._write.call(this, chunk, ...rest)
    }
    socketProto._writev = function (this: Socket, ...args: unknown[]) {
      calls++
      return originals._writev.call(this, ...args)
    }
    for (let at = 0; at < data.byteLength; at += 256 * 1024) {
      if (!stream.send(data.subarray(at, at + 256 * 1024))) await stream.onDrain()
    }
    await stream.close()
    const got = await received
    assert.equal(
      createHash('sha256').update(got).digest('hex'),
      createHash('sha256').update(data).digest('hex'),
    )
    const messages = Math.ceil(data.byteLength / NOISE_MESSAGE)
    // Measured for 8 MiB: 466 writes without the patch, 153 of them a 2-byte length alone; 14 with it.
    assert.equal(tiny, 0, `${tiny} writes of a Noise length prefix alone`)
    assert.ok(calls < messages, `${calls} socket writes for ${messages} Noise messages`)
  })
})
