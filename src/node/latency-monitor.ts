import type { PeerId } from '@libp2p/interface'
import { PING_CONCURRENCY, PING_INTERVAL_MS, PING_TIMEOUT_MS } from './constants.ts'
import { errorMessage, type Logger } from './logger.ts'

export interface LatencyMonitorInit {
  ping(peer: PeerId, signal: AbortSignal): Promise<number>
  /** The peers to measure: the connected ones. */
  peers(): PeerId[]
  /** A fresh round-trip time in ms, or null when the ping failed. */
  onLatency(peer: PeerId, ms: number | null): void
  logger: Logger
  /** Default PING_INTERVAL_MS (15 s). */
  intervalMs?: number
  /** Default PING_TIMEOUT_MS (5 s). */
  timeoutMs?: number
  /** Pings in flight at most; default PING_CONCURRENCY (4). */
  concurrency?: number
}

/** Pings every connected peer now and then (libp2p ping), a few at a time, and reports the round trips. */
export class LatencyMonitor {
  private readonly init: LatencyMonitorInit
  private timer: NodeJS.Timeout | null = null
  private round: Promise<void> | null = null
  private readonly controller = new AbortController()
  private readonly inflight = new Map<string, Promise<number | null>>()

  constructor(init: LatencyMonitorInit) {
    this.init = init
  }

  start(): void {
    if (this.timer !== null || this.controller.signal.aborted) return
    this.timer = setInterval(() => void this.runRound(), this.init.intervalMs ?? PING_INTERVAL_MS)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.controller.abort()
    await this.round
  }

  /** Pings one peer at once and reports it; resolves to the round trip or null. One ping per peer at a time. */
  pingNow(peer: PeerId): Promise<number | null> {
    const id = peer.toString()
    let ping = this.inflight.get(id)
    if (ping === undefined) {
      ping = this.pingOnce(peer).finally(() => this.inflight.delete(id))
      this.inflight.set(id, ping)
    }
    return ping
  }

  private async pingOnce(peer: PeerId): Promise<number | null> {
    if (this.controller.signal.aborted) return null
    const signal = AbortSignal.any([
      this.controller.signal,
      AbortSignal.timeout(this.init.timeoutMs ?? PING_TIMEOUT_MS),
    ])
    let ms: number | null = null
    try {
      ms = await this.init.ping(peer, signal)
    } catch (err) {
      if (this.controller.signal.aborted) return null
      this.init.logger.debug(`ping ${peer.toString()} failed: ${errorMessage(err)}`)
    }
    this.init.onLatency(peer, ms)
    return ms
  }

  /** One pass over the connected peers; a pass still running makes this a no-op. */
  runRound(): Promise<void> {
    if (this.round !== null) return this.round
    const queue = [...this.init.peers()]
    const worker = async (): Promise<void> => {
      for (let peer = queue.shift(); peer !== undefined; peer = queue.shift()) await this.pingNow(peer)
    }
    const n = Math.min(this.init.concurrency ?? PING_CONCURRENCY, queue.length)
    this.round = Promise.all(Array.from({ length: n }, worker)).then(() => {
      this.round = null
    })
    return this.round
  }
}
