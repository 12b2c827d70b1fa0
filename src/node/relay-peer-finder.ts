import type { IdentifyResult, PeerId, PeerInfo } from '@libp2p/interface'
import type { HffsLibp2p } from './libp2p-node.ts'
import { errorMessage, type Logger } from './logger.ts'
import {
  RELAY_DIAL_CONCURRENCY,
  RELAY_DIAL_TIMEOUT_MS,
  RELAY_PEER_SEARCH_DELAY_MS,
  RELAY_PEER_SEARCH_MAX_DIALS,
  RELAY_PEER_SEARCH_MS,
  RELAY_PEER_SEARCH_TIMEOUT_MS,
} from './relay-constants.ts'

export interface RelayPeerFinderInit {
  node: HffsLibp2p
  /** Peer ids of the configured relays: a search runs soon after one of them is identified. */
  relayPeerIds: readonly string[]
  logger: Logger
  /** Time between searches; default RELAY_PEER_SEARCH_MS (10 s). */
  intervalMs?: number
  /** Wait after a relay is identified, so the DHT has it in its table; default 1 s. */
  delayMs?: number
  /** One dial (direct addresses first, then circuits) gives up after this long; default 30 s. */
  dialTimeoutMs?: number
}

/**
 * Finds the peers of other sites. Behind relays, mDNS sees only the own LAN: the relay is a DHT server that
 * every site's nodes know, so a lookup of our own key through it names the nodes of the other sites (with
 * their /p2p-circuit addresses), which are then dialled. libp2p tries direct addresses before circuit ones,
 * so a peer that can be reached directly is; the relay carries only what cannot. A dial has time for an
 * unreachable direct address to time out and the circuit to be set up after it.
 */
export class RelayPeerFinder {
  private readonly init: RelayPeerFinderInit
  private readonly controller = new AbortController()
  private timer: NodeJS.Timeout | null = null
  private search: Promise<void> | null = null
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    if (!this.init.relayPeerIds.includes(evt.detail.peerId.toString())) return
    setTimeout(() => this.searchNow(), this.init.delayMs ?? RELAY_PEER_SEARCH_DELAY_MS).unref()
  }

  constructor(init: RelayPeerFinderInit) {
    this.init = init
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
    await this.search
  }

  /** One search now (lookup, then dials), unless one is running. */
  searchNow(): void {
    if (this.controller.signal.aborted || this.search !== null) return
    this.search = this.lookup()
      .then((found) => this.dialAll(found))
      .finally(() => {
        this.search = null
      })
  }

  /** Every peer the lookup hears of, whether or not the query itself reached it. */
  private async lookup(): Promise<PeerInfo[]> {
    const { node } = this.init
    const self = node.peerId
    const signal = AbortSignal.any([
      this.controller.signal,
      AbortSignal.timeout(RELAY_PEER_SEARCH_TIMEOUT_MS),
    ])
    const found = new Map<string, PeerInfo>()
    const note = (info: PeerInfo): void => {
      if (!info.id.equals(self) && found.size < RELAY_PEER_SEARCH_MAX_DIALS)
        found.set(info.id.toString(), info)
    }
    try {
      for await (const event of node.services.dht.getClosestPeers(self.toMultihash().bytes, { signal })) {
        if (event.name === 'PEER_RESPONSE') event.closer.forEach(note)
        else if (event.name === 'FINAL_PEER') note(event.peer)
      }
    } catch (err) {
      if (!this.controller.signal.aborted)
        this.init.logger.debug(`relay peer search ended early: ${errorMessage(err)}`)
    }
    return [...found.values()]
  }

  private async dialAll(found: PeerInfo[]): Promise<void> {
    const { node, logger } = this.init
    const queue = found.filter((p) => node.getConnections(p.id).length === 0)
    logger.debug(`relay peer search: ${found.length} peers, ${queue.length} not connected`)
    const worker = async (): Promise<void> => {
      for (let info = queue.shift(); info !== undefined; info = queue.shift()) {
        if (this.controller.signal.aborted) return
        await this.dial(info)
      }
    }
    await Promise.all(Array.from({ length: RELAY_DIAL_CONCURRENCY }, worker))
  }

  private async dial(info: PeerInfo): Promise<void> {
    const { node, logger } = this.init
    const timeout = this.init.dialTimeoutMs ?? RELAY_DIAL_TIMEOUT_MS
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(timeout)])
    try {
      if (info.multiaddrs.length > 0)
        await node.peerStore.merge(info.id, { multiaddrs: info.multiaddrs }, { signal })
      const conn = await node.dial(info.id as PeerId, { signal })
      logger.info(
        `connected to ${info.id.toString()} (found through the relay's DHT) at ${conn.remoteAddr.toString()}`,
      )
    } catch (err) {
      if (!this.controller.signal.aborted)
        logger.debug(
          `dial ${info.id.toString()} (found through the relay's DHT) failed: ${errorMessage(err)}`,
        )
    }
  }
}
