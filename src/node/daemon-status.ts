import { DHT_PROTOCOL } from './constants.ts'
import type { IndexingStatus } from './cache-indexer.ts'
import type { DaemonParts } from './daemon-parts.ts'
import type { Transfer } from './transfer-registry.ts'

/** GET /v1/status. */
export interface DaemonStatus {
  pid: number
  peerId: string
  controlUrl: string
  /** libp2p addresses others can dial, with /p2p/<peer id>. */
  listen: string[]
  /** Where the HF-compatible gateway answers: the control URL, then any `--gateway-listen` listeners. */
  gateway: string[]
  startedAt: string
  uptimeSeconds: number
  connectedPeers: string[]
  knownPeers: number
  /** Verified blob files the node serves, and the chunks they hold. */
  blobs: { shared: number; chunks: number }
  /** DHT provider records put so far. */
  providedRecords: number
  indexing: IndexingStatus
  transfers: Transfer[]
  mdns: boolean
  dht: { protocol: string; mode: 'client' | 'server' }
}

export async function daemonStatus(parts: DaemonParts): Promise<DaemonStatus> {
  const counts = parts.index.counts()
  return {
    pid: process.pid,
    peerId: parts.libp2p.peerId.toString(),
    controlUrl: parts.control.url,
    listen: parts.libp2p.getMultiaddrs().map((m) => m.toString()),
    gateway: parts.gatewayUrls,
    startedAt: parts.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - parts.startedAt.getTime()) / 1000),
    connectedPeers: parts.peers.connectedPeers(),
    knownPeers: (await parts.peers.list()).length,
    blobs: { shared: counts.blobFiles, chunks: counts.chunks },
    providedRecords: parts.content.providedCount(),
    indexing: parts.indexer.status(),
    transfers: parts.transfers.list(),
    mdns: parts.config.mdns,
    dht: { protocol: DHT_PROTOCOL, mode: parts.libp2p.services.dht.getMode() },
  }
}
