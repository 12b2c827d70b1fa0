import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createLibp2p, type Libp2p } from 'libp2p'
import { transportStack } from '../../src/node/libp2p-node.ts'

const PROTOCOL = '/test/bulk/1.0.0'
const WINDOW_UPDATE = 1 // yamux frame type

describe('yamux window updates (patch)', function () {
  this.timeout(20_000)
  const nodes: Libp2p[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('a bulk receiver sends a window update per half window, not per frame, and gets every byte', async () => {
    const make = async (): Promise<Libp2p> => {
      const node = await createLibp2p({
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        ...transportStack(),
      })
      nodes.push(node)
      return node
    }
    const [sender, receiver] = await Promise.all([make(), make()])
    const data = randomBytes(8 * 1024 * 1024)
    let updates = 0
    const received = new Promise<Buffer>((resolve, reject) => {
      void receiver.handle(PROTOCOL, async (stream) => {
        // Count the window-update frames this end sends on the stream.
        const s = stream as unknown as {
          sendFrame: (header: { type: number }, ...rest: unknown[]) => unknown
        }
        const send = s.sendFrame
        s.sendFrame = (header, ...rest) => {
          if (header.type === WINDOW_UPDATE) updates++
          return send(header, ...rest)
        }
        const parts: Uint8Array[] = []
        try {
          for await (const piece of stream) parts.push(piece.subarray())
          resolve(Buffer.concat(parts))
        } catch (err) {
          reject(err as Error)
        }
      })
    })
    const stream = await sender.dialProtocol(receiver.getMultiaddrs(), PROTOCOL)
    // 64 KiB writes, as the chunks protocol makes them.
    for (let at = 0; at < data.byteLength; at += 65536) {
      if (!stream.send(data.subarray(at, at + 65536))) await stream.onDrain()
    }
    await stream.close()
    const got = await received
    assert.equal(
      createHash('sha256').update(got).digest('hex'),
      createHash('sha256').update(data).digest('hex'),
    )
    assert.ok(updates > 0, 'no window update at all: the sender could not have sent 8 MiB')
    // Measured: 69 without the patch (about one per frame), 5 with it (the window also grows as it goes).
    assert.ok(updates <= 16, `${updates} window updates for 8 MiB`)
  })
})
