import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createHffsNode, type HffsLibp2p } from '../../src/node/libp2p-node.ts'
import { parseNodeConfig } from '../../src/node/node-config.ts'
import { relayPeerId, relayServerLimits } from '../../src/node/relay-config.ts'
import type { RelayReservations } from '../../src/node/relay-reservations.ts'
import { waitFor } from '../cli/daemon-helpers.ts'

const RELAY_ID = '12D3KooWKE1HZMe4QDvX3GdSXBMgJWFV7Py3XFqCBafCK1wMACiW'

describe('relay settings', () => {
  it('reads relays, relayServer and the caps; rejects bad values in one line', () => {
    const c = parseNodeConfig(
      {
        relays: [`/ip4/10.0.0.1/tcp/4001/p2p/${RELAY_ID}`],
        relayServer: true,
        relayMaxReservations: 8,
        relayMaxBytes: 1_000_000,
        relayMaxDurationMs: 60_000,
      },
      'src',
    )
    assert.deepEqual(
      relayServerLimits({
        ...c,
        port: 0,
        listen: [],
        bootstrap: [],
        mdns: false,
        chunkCacheBytes: 0,
        maxUploadRate: 0,
        maxDownloadRate: 0,
      }),
      {
        maxReservations: 8,
        maxBytes: 1_000_000,
        maxDurationMs: 60_000,
      },
    )
    assert.equal(relayPeerId(c.relays?.[0] ?? ''), RELAY_ID)
    const bad: [unknown, RegExp][] = [
      [{ relays: ['/ip4/10.0.0.1/tcp/4001'] }, /"relays": ".*" must end with the relay's peer id/],
      [
        { relays: [`/ip4/10.0.0.1/tcp/4001/p2p/${RELAY_ID}/p2p-circuit`] },
        /must end with the relay's peer id/,
      ],
      [{ relays: 'x' }, /"relays" must be a list of multiaddrs/],
      [{ relayServer: 'yes' }, /"relayServer" must be true or false/],
      [{ relayMaxReservations: 0 }, /"relayMaxReservations" must be a whole number from 1/],
      [{ relayMaxBytes: -1 }, /"relayMaxBytes" must be a whole number of bytes/],
      [{ relayMaxDurationMs: 2 ** 31 }, /"relayMaxDurationMs" must be a whole number of ms/],
    ]
    for (const [raw, message] of bad) {
      assert.throws(
        () => parseNodeConfig(raw, 'src'),
        (err: Error) =>
          err.name === 'ConfigError' && message.test(err.message) && !err.message.includes('\n'),
        JSON.stringify(raw),
      )
    }
  })
})

describe('circuit relay on loopback', function () {
  this.timeout(60_000)
  const nodes: HffsLibp2p[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  const start = async (
    opts: { relays?: string[]; relayServer?: boolean; key?: PrivateKey; port?: number } = {},
  ): Promise<HffsLibp2p> => {
    const node = await createHffsNode({
      privateKey: opts.key ?? (await generateKeyPair('Ed25519')),
      listen: [`/ip4/127.0.0.1/tcp/${opts.port ?? 0}`],
      mdns: false,
      relays: opts.relays,
      relayServer: opts.relayServer === true ? {} : undefined,
    })
    nodes.push(node)
    return node
  }
  const circuitVia = (node: HffsLibp2p, relay: string): string | undefined =>
    node
      .getMultiaddrs()
      .map((a) => a.toString())
      .find((a) => a.includes(`/p2p/${relay}/p2p-circuit`))

  it('reserves on the relay, is reachable by its circuit address unlimited, and reserves again after a relay restart', async () => {
    const relayKey = await generateKeyPair('Ed25519')
    const relay = await start({ relayServer: true, key: relayKey })
    const relayAddr = relay.getMultiaddrs()[0].toString()
    const port = Number(relayAddr.split('/')[4])
    const relayId = relay.peerId.toString()
    const a = await start({ relays: [relayAddr] })
    const circuit = await waitFor('a reservation', 20_000, async () => circuitVia(a, relayId))
    assert.match(circuit, new RegExp(`/tcp/${port}/p2p/${relayId}/p2p-circuit/p2p/${a.peerId.toString()}$`))
    assert.deepEqual((a.services.relayReservations as RelayReservations).reservedOn(), [relayId])

    // A node that only knows the circuit address gets a relayed connection with no limits (bulk transfer).
    const b = await start({ relays: [relayAddr] })
    const conn = await b.dial(multiaddr(circuit))
    assert.ok(conn.remoteAddr.toString().includes('/p2p-circuit'), conn.remoteAddr.toString())
    assert.equal(conn.limits, undefined)

    // The relay goes away and comes back on the same port with the same key: a reserves again.
    await relay.stop()
    nodes.splice(nodes.indexOf(relay), 1)
    await waitFor('the reservation to be gone', 20_000, async () =>
      circuitVia(a, relayId) === undefined ? true : undefined,
    )
    await start({ relayServer: true, key: relayKey, port })
    await waitFor('a second reservation', 40_000, async () => circuitVia(a, relayId))
  })
})
