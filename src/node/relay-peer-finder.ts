import type { IdentifyResult, PeerId } from '@libp2p/interface'
import { DiscoveryDialer } from './discovery-dialer.ts'
import type { HffsLibp2p } from './libp2p-node.ts'
import { errorMessage, type Logger } from './logger.ts'
import {
  RELAY_PEER_SEARCH_DELAY_MS,
  RELAY_PEER_SEARCH_MS,
  RELAY_PEER_SEARCH_TIMEOUT_MS,
} from './relay-constants.ts'

export interface RelayPeerFinderInit {
  node: HffsLibp2p
  /** Peer ids of the configured relays: a search runs soon after one of them is identified. */
  relayPeerIds: readonly string[]
  logger: Logger
  /** Time between searches; default RELAY_PEER_SEARCH_MS (30 s). */
  intervalMs?: number
  /** Wait after a relay is identified, so the DHT has it in its table; default 1 s. */
  delayMs?: number
}

/**
 * Finds the peers of other sites. Behind relays, mDNS sees only the own LAN: the relay is a DHT server that
 * every site's nodes know, so a lookup of our own key through it returns the nodes of the other sites (with
 * their /p2p-circuit addresses), which are then dialled. libp2p tries direct addresses before circuit ones,
 * so a peer that can be reached directly is; the relay carries only what cannot.
 */
export class RelayPeerFinder {
  private readonly init: RelayPeerFinderInit
  private readonly dialer: DiscoveryDialer
  private readonly controller = new AbortController()
  private timer: NodeJS.Timeout | null = null
  private search: Promise<void> | null = null
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    if (!this.init.relayPeerIds.includes(evt.detail.peerId.toString())) return
    setTimeout(() => this.searchNow(), this.init.delayMs ?? RELAY_PEER_SEARCH_DELAY_MS).unref()
  }

  constructor(init: RelayPeerFinderInit) {
    this.init = init
    this.dialer = new DiscoveryDialer({
      self: init.node.peerId,
      dial: (peer: PeerId, signal: AbortSignal) => init.node.dial(peer, { signal }),
      isConnected: (peer: PeerId) => init.node.getConnections(peer).length > 0,
      logger: init.logger,
      // A peer that did not answer is asked again at the next search.
      retryMs: Math.min(init.intervalMs ?? RELAY_PEER_SEARCH_MS, RELAY_PEER_SEARCH_MS),
    })
  }

  start(): void {
    if (this.timer !== null || this.controller.signal.aborted) return
    this.init.node.addEventListener('peer:identify', this.onIdentify)
    this.timer = setInterval(() => this.searchNow(), this.init.intervalMs ?? RELAY_PEER_SEARCH_MS)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.init.node.removeEventListener('peer:identify', this.onIdentify)
    this.controller.abort()
    this.dialer.stop()
    await this.search
  }

  /** One lookup now, unless one is running. */
  searchNow(): void {
    if (this.controller.signal.aborted || this.search !== null) return
    this.search = this.lookup().finally(() => {
      this.search = null
    })
  }

  private async lookup(): Promise<void> {
    const { node } = this.init
    const signal = AbortSignal.any([
      this.controller.signal,
      AbortSignal.timeout(RELAY_PEER_SEARCH_TIMEOUT_MS),
    ])
    let found = 0
    try {
      for await (const peer of node.peerRouting.getClosestPeers(node.peerId.toMultihash().bytes, {
        signal,
      })) {
        if (peer.id.equals(node.peerId)) continue
        found++
        this.dialer.discovered(peer.id)
      }
      this.init.logger.debug(`relay peer search: ${found} peers`)
    } catch (err) {
      if (!this.controller.signal.aborted)
        this.init.logger.debug(`relay peer search ended after ${found} peers: ${errorMessage(err)}`)
    }
  }
}
