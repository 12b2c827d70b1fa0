import type { PeerId } from '@libp2p/interface'
import {
  DIAL_TIMEOUT_MS,
  DISCOVERY_DIAL_CONCURRENCY,
  DISCOVERY_DIAL_QUEUE,
  DISCOVERY_RETRY_MS,
} from './constants.ts'
import { errorMessage, type Logger } from './logger.ts'

export interface DiscoveryDialerInit {
  self: PeerId
  /** Dials by peer id: libp2p has put the discovered addresses in its peer store. */
  dial(peer: PeerId, signal: AbortSignal): Promise<unknown>
  isConnected(peer: PeerId): boolean
  logger: Logger
  /** Dials in flight at most; default DISCOVERY_DIAL_CONCURRENCY (4). */
  concurrency?: number
  /** Peers waiting at most; more are dropped until the next announcement. Default DISCOVERY_DIAL_QUEUE (64). */
  maxQueue?: number
  /** A peer is not dialled again sooner than this after an attempt; default DISCOVERY_RETRY_MS (30 s). */
  retryMs?: number
}

/**
 * libp2p 3 reports the peers mDNS finds but does not dial them: this does, once each, not ourselves, not
 * peers already connected, a few at a time, and not again for a while after a failure.
 */
export class DiscoveryDialer {
  private readonly init: DiscoveryDialerInit
  private readonly queue: PeerId[] = []
  private readonly queued = new Set<string>()
  private readonly lastAttempt = new Map<string, number>()
  private readonly controller = new AbortController()
  private running = 0

  constructor(init: DiscoveryDialerInit) {
    this.init = init
  }

  discovered(peer: PeerId): void {
    const id = peer.toString()
    if (this.controller.signal.aborted || peer.equals(this.init.self) || this.init.isConnected(peer)) return
    if (this.queued.has(id)) return
    const last = this.lastAttempt.get(id)
    if (last !== undefined && Date.now() - last < (this.init.retryMs ?? DISCOVERY_RETRY_MS)) return
    if (this.queue.length >= (this.init.maxQueue ?? DISCOVERY_DIAL_QUEUE)) return
    this.queue.push(peer)
    this.queued.add(id)
    this.pump()
  }

  stop(): void {
    this.controller.abort()
    this.queue.length = 0
    this.queued.clear()
  }

  private pump(): void {
    while (this.running < (this.init.concurrency ?? DISCOVERY_DIAL_CONCURRENCY) && this.queue.length > 0) {
      const peer = this.queue.shift() as PeerId
      this.queued.delete(peer.toString())
      this.running++
      void this.dialOne(peer).finally(() => {
        this.running--
        this.pump()
      })
    }
  }

  private async dialOne(peer: PeerId): Promise<void> {
    this.remember(peer.toString())
    if (this.init.isConnected(peer)) return
    try {
      await this.init.dial(
        peer,
        AbortSignal.any([this.controller.signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)]),
      )
      this.init.logger.info(`connected to discovered peer ${peer.toString()}`)
    } catch (err) {
      if (!this.controller.signal.aborted)
        this.init.logger.debug(`dial discovered peer ${peer.toString()} failed: ${errorMessage(err)}`)
    }
  }

  /** Notes an attempt; old notes are dropped so that the map stays small on a busy LAN. */
  private remember(id: string): void {
    const now = Date.now()
    this.lastAttempt.set(id, now)
    if (this.lastAttempt.size <= 1024) return
    const horizon = now - (this.init.retryMs ?? DISCOVERY_RETRY_MS)
    for (const [key, t] of this.lastAttempt) if (t < horizon) this.lastAttempt.delete(key)
  }
}
