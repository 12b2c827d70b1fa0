import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p, PeerDiscovery, PrivateKey } from '@libp2p/interface'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping, type Ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { patchXsalsa20ForLargeBuffers } from './pnet-xsalsa20-patch.ts'
import { noiseWithFewerCopies } from './noise-copies-patch.ts'
import { skipRedundantProtocolMerges } from './peer-store-merge-patch.ts'
import { patchStreamDrain } from './stream-drain-patch.ts'
import { patchTcpWrites } from './tcp-write-patch.ts'
import { patchYamuxWindowUpdates } from './yamux-window-patch.ts'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2pOptions, type ServiceFactoryMap } from 'libp2p'
import {
  DHT_PROTOCOL,
  DIAL_TIMEOUT_MS,
  MAX_CONNECTIONS,
  MAX_PARALLEL_DIALS,
  EARLY_STREAMS_PER_CONNECTION,
  MAX_STREAMS_PER_CONNECTION,
} from './constants.ts'
import { RELAY_MAX_STOP_STREAMS } from './relay-constants.ts'
import { relayReservations } from './relay-reservations.ts'
import { relayServer, type RelayServerLimits } from './relay-server.ts'

/**
 * A libp2p service factory, as the wire protocols export them: `(components) => service`. Typed loosely
 * here because libp2p does not export its Components type; each factory states the components it uses.
 */
export type ServiceFactory = (components: never) => unknown

/** The services every hffs node runs; `mdns` only when enabled. Extra services are looked up by name. */
export interface HffsServices extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  dht: KadDHT
  mdns?: PeerDiscovery
}

export type HffsLibp2p = Libp2p<HffsServices>

export interface CreateHffsNodeParams {
  /** The node's identity (see loadOrCreatePeerKey). */
  privateKey: PrivateKey
  /** Listen multiaddrs, e.g. `/ip4/0.0.0.0/tcp/0`. */
  listen: string[]
  /** Multicast DNS on the LAN. Never enable it in a test outside a network namespace. */
  mdns: boolean
  /** More libp2p services, by name (the wire protocols); a name may not replace a built-in one. */
  services?: Record<string, ServiceFactory>
  /** Private swarm: a checked swarm key (loadSwarmKey); only nodes with the same key can connect. */
  swarmKey?: Uint8Array
  /** Circuit relays to reserve a slot on (multiaddrs ending in /p2p/ID); default none. */
  relays?: readonly string[]
  /** Be a circuit-relay v2 server with these caps; default: not a relay. */
  relayServer?: RelayServerLimits
  /** Start listening at once; default true. */
  start?: boolean
}

/**
 * libp2p pings every connection and, by default, aborts it when a ping takes longer than a few times the
 * usual round trip. Behind a busy CPU or a saturated link (a bulk transfer, a relay) a ping waits seconds
 * behind chunk data, and the connection, with every transfer on it, was cut. Only a long silence does it now.
 */
const CONNECTION_PING_MIN_TIMEOUT_MS = 30_000
const CONNECTION_PING_MAX_TIMEOUT_MS = 60_000

const BUILT_IN = ['identify', 'ping', 'dht', 'mdns', 'relay', 'relayReservations']

/** Ping streams per connection each way (the default of 1 fails when two monitors ping at once). */
const PING_STREAMS = 4

/** TCP, Noise and Yamux as every hffs node runs them (benchmarks build their baseline from this too). */
export function transportStack(): Pick<
  Libp2pOptions,
  'transports' | 'connectionEncrypters' | 'streamMuxers'
> {
  patchYamuxWindowUpdates()
  patchTcpWrites()
  patchStreamDrain()
  return {
    transports: [tcp()],
    connectionEncrypters: [noiseWithFewerCopies()],
    streamMuxers: [
      yamux({
        maxInboundStreams: MAX_STREAMS_PER_CONNECTION,
        maxEarlyStreams: EARLY_STREAMS_PER_CONNECTION,
      }),
    ],
  }
}

/**
 * The node's libp2p: TCP, Noise, Yamux, identify, ping, our private Kademlia DHT in server mode (peers on a
 * LAN are dialable, so private addresses are kept), and mDNS when enabled. libp2p 3 does not dial the peers
 * mDNS finds: see DiscoveryDialer. With relays: the circuit transport and reservations on them (see
 * RelayReservations); as a relay: a circuit-relay v2 server.
 */
export async function createHffsNode(params: CreateHffsNodeParams): Promise<HffsLibp2p> {
  for (const name of Object.keys(params.services ?? {})) {
    if (BUILT_IN.includes(name)) throw new Error(`service name "${name}" is taken by a built-in service`)
  }
  const services: Record<string, ServiceFactory> = {
    identify: identify() as ServiceFactory,
    // Our latency monitor and libp2p's connection monitor each ping a peer: one stream each, and the peer's.
    ping: ping({ maxOutboundStreams: PING_STREAMS, maxInboundStreams: PING_STREAMS }) as ServiceFactory,
    dht: kadDHT({
      protocol: DHT_PROTOCOL,
      clientMode: false,
      peerInfoMapper: passthroughMapper,
      logPrefix: 'libp2p:hffs-dht',
    }) as ServiceFactory,
    ...(params.mdns ? { mdns: mdns() as ServiceFactory } : {}),
    ...(params.relayServer !== undefined ? { relay: relayServer(params.relayServer) } : {}),
    ...params.services,
  }
  const relays = params.relays ?? []
  const stack = transportStack()
  if (relays.length > 0) {
    // Relayed connections in and out; the reservations themselves are kept by relayReservations.
    stack.transports = [
      ...(stack.transports ?? []),
      circuitRelayTransport({ maxInboundStopStreams: RELAY_MAX_STOP_STREAMS }),
    ]
    services.relayReservations = relayReservations({ relays }) as ServiceFactory
  }
  if (params.swarmKey !== undefined) patchXsalsa20ForLargeBuffers()
  const node = await createLibp2p<HffsServices>({
    privateKey: params.privateKey,
    start: params.start ?? true,
    nodeInfo: { name: 'hffs-node' },
    addresses: { listen: params.listen },
    ...stack,
    connectionMonitor: {
      pingTimeout: { minTimeout: CONNECTION_PING_MIN_TIMEOUT_MS, maxTimeout: CONNECTION_PING_MAX_TIMEOUT_MS },
    },
    ...(params.swarmKey === undefined ? {} : { connectionProtector: preSharedKey({ psk: params.swarmKey }) }),
    connectionManager: {
      maxConnections: MAX_CONNECTIONS,
      maxParallelDials: MAX_PARALLEL_DIALS,
      dialTimeout: DIAL_TIMEOUT_MS,
    },
    services: services as unknown as ServiceFactoryMap<HffsServices>,
  })
  skipRedundantProtocolMerges(node)
  return node
}
