import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { createLogger } from '../../src/node/logger.ts'
import { PeerRedialer } from '../../src/node/peer-redialer.ts'

const ADDR = multiaddr('/ip4/127.0.0.1/tcp/1')
const quiet = createLogger('test', { sink: () => {} })

describe('peer redialer', () => {
  it('retries with doubling delays up to the cap, then stops once connected', async () => {
    const at: number[] = []
    let connected = false
    const start = Date.now()
    const redialer = new PeerRedialer({
      dial: async () => {
        at.push(Date.now() - start)
        if (at.length < 5) throw new Error('refused')
        connected = true
      },
      isConnected: () => connected,
      logger: quiet,
      minMs: 20,
      maxMs: 80,
    })
    redialer.schedule('p', ADDR)
    for (let i = 0; i < 100 && !connected; i++) await new Promise((r) => setTimeout(r, 20))
    assert.equal(at.length, 5)
    // Waits of 20, 40, 80, 80, 80 ms: attempts near 20, 60, 140, 220, 300.
    const gaps = at.map((t, i) => t - (i === 0 ? 0 : at[i - 1]))
    assert.ok(gaps[0] >= 18 && gaps[1] >= 38 && gaps[2] >= 78 && gaps[3] >= 78, String(gaps))
    assert.ok(gaps[3] < 160 && gaps[4] < 160, `capped: ${gaps}`)
    assert.deepEqual(redialer.waiting(), [])
    redialer.stop()
  })

  it('dials at once when asked, skips connected peers, and forgets cancelled ones', async () => {
    let dials = 0
    const redialer = new PeerRedialer({
      dial: async () => {
        dials++
        throw new Error('refused')
      },
      isConnected: (id) => id === 'up',
      logger: quiet,
      minMs: 10,
      maxMs: 10,
    })
    redialer.schedule('up', ADDR, true)
    assert.equal(dials, 0)
    assert.deepEqual(redialer.waiting(), [])
    redialer.schedule('down', ADDR, true)
    await new Promise((r) => setTimeout(r, 5))
    assert.equal(dials, 1)
    redialer.cancel('down')
    const before = dials
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(dials, before)
    redialer.stop()
    redialer.schedule('late', ADDR, true)
    assert.deepEqual(redialer.waiting(), [])
  })
})
