import type { Multiaddr } from '@multiformats/multiaddr'
import { DIAL_TIMEOUT_MS, REDIAL_MAX_MS, REDIAL_MIN_MS } from './constants.ts'
import { errorMessage, type Logger } from './logger.ts'

export interface PeerRedialerInit {
  dial(addr: Multiaddr, signal: AbortSignal): Promise<unknown>
  isConnected(peerId: string): boolean
  logger: Logger
  /** First delay; doubled after each failure. Default REDIAL_MIN_MS (1 s). */
  minMs?: number
  /** Cap of the delay. Default REDIAL_MAX_MS (60 s). */
  maxMs?: number
}

interface Pending {
  addr: Multiaddr
  delay: number
  timer: NodeJS.Timeout | null
  dialing: AbortController | null
}

/**
 * Keeps dialling peers we want to stay connected to (manual and bootstrap peers) while they are away,
 * with exponential backoff, one attempt in flight per peer, until they are connected or cancelled.
 */
export class PeerRedialer {
  private readonly init: PeerRedialerInit
  private readonly minMs: number
  private readonly maxMs: number
  private readonly pending = new Map<string, Pending>()
  private stopped = false

  constructor(init: PeerRedialerInit) {
    this.init = init
    this.minMs = init.minMs ?? REDIAL_MIN_MS
    this.maxMs = init.maxMs ?? REDIAL_MAX_MS
  }

  /** Starts redialling `peerId` at `addr` unless it already is; `now` dials at once instead of after the delay. */
  schedule(peerId: string, addr: Multiaddr, now = false): void {
    if (this.stopped || this.pending.has(peerId)) return
    const entry: Pending = { addr, delay: this.minMs, timer: null, dialing: null }
    this.pending.set(peerId, entry)
    if (now) void this.attempt(peerId, entry)
    else this.arm(peerId, entry)
  }

  /**
   * The peer is connected: forget its backoff. A dial in flight is left to finish: libp2p keeps the dial's
   * signal on the socket until the upgrade completes, so aborting it now would cut the new connection.
   */
  connected(peerId: string): void {
    this.cancel(peerId, false)
  }

  /** Stops redialling `peerId`, aborting a dial in flight unless `abortDial` is false. */
  cancel(peerId: string, abortDial = true): void {
    const entry = this.pending.get(peerId)
    if (entry === undefined) return
    if (entry.timer !== null) clearTimeout(entry.timer)
    if (abortDial) entry.dialing?.abort()
    this.pending.delete(peerId)
  }

  /** Peers being redialled. */
  waiting(): string[] {
    return [...this.pending.keys()]
  }

  stop(): void {
    this.stopped = true
    for (const id of [...this.pending.keys()]) this.cancel(id)
  }

  private arm(peerId: string, entry: Pending): number {
    const wait = entry.delay
    entry.delay = Math.min(entry.delay * 2, this.maxMs)
    entry.timer = setTimeout(() => {
      entry.timer = null
      void this.attempt(peerId, entry)
    }, wait)
    entry.timer.unref()
    return wait
  }

  private async attempt(peerId: string, entry: Pending): Promise<void> {
    if (this.pending.get(peerId) !== entry) return
    if (this.init.isConnected(peerId)) {
      this.pending.delete(peerId)
      return
    }
    entry.dialing = new AbortController()
    try {
      await this.init.dial(
        entry.addr,
        AbortSignal.any([entry.dialing.signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)]),
      )
      if (this.pending.get(peerId) === entry) this.pending.delete(peerId)
      this.init.logger.info(`reconnected to ${peerId}`)
    } catch (err) {
      if (this.pending.get(peerId) !== entry) return // cancelled meanwhile
      const wait = this.arm(peerId, entry)
      this.init.logger.debug(
        `dial ${entry.addr.toString()} failed (${errorMessage(err)}); next in ${wait} ms`,
      )
    } finally {
      entry.dialing = null
    }
  }
}
