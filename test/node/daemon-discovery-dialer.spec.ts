import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { DiscoveryDialer } from '../../src/node/discovery-dialer.ts'
import { createLogger } from '../../src/node/logger.ts'

const quiet = createLogger('test', { sink: () => {} })

async function newPeerId(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('discovery dialer (what mDNS finds)', () => {
  it('dials each found peer once, never itself nor a connected peer, a few at a time', async () => {
    const self = await newPeerId()
    const peers = await Promise.all(Array.from({ length: 6 }, newPeerId))
    const connected = new Set<string>([peers[5].toString()])
    const dialled: string[] = []
    let inFlight = 0
    let maxInFlight = 0
    const release: (() => void)[] = []
    const dialer = new DiscoveryDialer({
      self,
      dial: async (peer) => {
        dialled.push(peer.toString())
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await new Promise<void>((resolve) => release.push(resolve))
        inFlight--
        throw new Error('refused')
      },
      isConnected: (peer) => connected.has(peer.toString()),
      logger: quiet,
      concurrency: 2,
      maxQueue: 2,
      retryMs: 60_000,
    })
    dialer.discovered(self)
    for (const p of peers) dialer.discovered(p)
    dialer.discovered(peers[0]) // announced again while queued or dialling
    for (let i = 0; i < 20 && dialled.length < 4; i++) {
      release.splice(0).forEach((r) => r())
      await new Promise((r) => setTimeout(r, 5))
    }
    release.splice(0).forEach((r) => r())
    // 2 dialling + 2 queued; the 5th was dropped (queue full), the 6th is connected already.
    assert.deepEqual(dialled, peers.slice(0, 4).map(String))
    assert.equal(maxInFlight, 2)
    dialer.discovered(peers[0]) // failed moments ago: not again before retryMs
    dialer.discovered(peers[4]) // dropped before: welcome now that there is room
    for (let i = 0; i < 20 && dialled.length < 5; i++) {
      release.splice(0).forEach((r) => r())
      await new Promise((r) => setTimeout(r, 5))
    }
    release.splice(0).forEach((r) => r())
    assert.deepEqual(dialled, peers.slice(0, 5).map(String))
    dialer.stop()
  })
})
