import { PEER_BOOK_MAX_DISCOVERED } from './constants.ts'

/** How we came to know a peer: added by hand, from config, found on the LAN or in the DHT, or it called us. */
export type PeerSource = 'manual' | 'bootstrap' | 'mdns' | 'dht' | 'inbound'

export interface KnownPeer {
  sources: Set<PeerSource>
  /** Last ping round trip in ms; null before the first answer or after a failed ping. */
  latencyMs: number | null
  /** When last connected, disconnected or discovered (ms since epoch); 0 for never. */
  lastSeen: number
}

/**
 * What the node remembers of each peer, by peer id string. Peers that are neither kept (manual,
 * bootstrap) nor connected are bounded in number: the oldest are forgotten first.
 */
export class KnownPeers {
  private readonly peers = new Map<string, KnownPeer>()
  private readonly isConnected: (id: string) => boolean
  private readonly max: number

  constructor(isConnected: (id: string) => boolean, max = PEER_BOOK_MAX_DISCOVERED) {
    this.isConnected = isConnected
    this.max = max
  }

  get(id: string): KnownPeer | undefined {
    return this.peers.get(id)
  }

  /** Remembers a peer, with a source; with `ifNew`, the source is added only when it has none yet. */
  note(id: string, source?: PeerSource, ifNew = false): KnownPeer {
    let k = this.peers.get(id)
    if (k === undefined) {
      k = { sources: new Set(), latencyMs: null, lastSeen: 0 }
      this.peers.set(id, k)
      this.prune()
    }
    if (source !== undefined && (!ifNew || k.sources.size === 0)) k.sources.add(source)
    return k
  }

  /** Drops a source; a peer left with none that is not connected is forgotten. */
  drop(id: string, source: PeerSource): void {
    const k = this.peers.get(id)
    if (k === undefined) return
    k.sources.delete(source)
    if (k.sources.size === 0 && !this.isConnected(id)) this.peers.delete(id)
  }

  entries(): [string, KnownPeer][] {
    return [...this.peers]
  }

  private prune(): void {
    const loose = [...this.peers]
      .filter(([id, k]) => !k.sources.has('manual') && !k.sources.has('bootstrap') && !this.isConnected(id))
      .sort((a, b) => a[1].lastSeen - b[1].lastSeen)
    for (let i = 0; i < loose.length - this.max; i++) this.peers.delete(loose[i][0])
  }
}
