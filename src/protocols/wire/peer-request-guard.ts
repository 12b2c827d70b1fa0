import { BusyError } from './errors.ts'
import type { AbortOptions, Connection, PeerId } from '@libp2p/interface'

/**
 * How much one remote peer may ask of one protocol's server. A well-behaved peer never comes near these;
 * a peer that floods is first slowed down (its requests wait for their turn), then refused, then
 * disconnected and banned.
 */
export interface RequestLimits {
  /** Requests of this protocol one peer may have being served at once, over all its connections. */
  maxInFlight: number
  /**
   * Requests of this protocol served at once for all peers together: what bounds the server's memory when
   * many peers (or one with many identities) all stall. Past it requests wait for a turn, in order.
   */
  maxInFlightTotal: number
  /** Requests per second a peer may start, sustained; faster ones wait for their turn (throttled). */
  ratePerSec: number
  /** Requests a peer may start back to back before the sustained rate applies. */
  burst: number
  /** Refused requests (over `maxInFlight`) within `refusalWindowMs` after which the peer is disconnected. */
  maxRefusals: number
  refusalWindowMs: number
  /** How long a disconnected flooder stays banned: every stream it opens meanwhile closes its connection. */
  banMs: number
}

/** Where banned peers are kept; the daemon shares one list (src/node/peer-bans.ts) among its services. */
export interface PeerBanList {
  ban(peerId: string, forMs: number): void
  isBanned(peerId: string): boolean
}

/** The part of libp2p's connection manager used to drop every connection of a flooder. */
export interface ConnectionCloser {
  closeConnections?(peer: PeerId, options?: AbortOptions): Promise<void>
}

/** A request admitted: `ready` resolves when its turn comes (at once unless throttled); `release` ends it. */
export interface Admission {
  ready: Promise<void>
  release(): void
}

/** Why a flooder's stream or connection was closed. */
export class PeerFloodingError extends Error {
  override name = 'PeerFloodingError'
}

// Peers remembered before idle ones are swept out (libp2p admits a few hundred connections at most).
const SWEEP_AT = 1024

interface PeerState {
  inFlight: number
  tokens: number
  last: number
  refusals: number[]
}

/** A tiny default ban list, for a service created without the daemon's. */
class LocalBans implements PeerBanList {
  private readonly until = new Map<string, number>()
  ban(peerId: string, forMs: number): void {
    this.until.set(peerId, Date.now() + forMs)
  }
  isBanned(peerId: string): boolean {
    const t = this.until.get(peerId)
    if (t === undefined) return false
    if (t > Date.now()) return true
    this.until.delete(peerId)
    return false
  }
}

/**
 * Admits or refuses each inbound stream of one protocol by the remote peer's in-flight count and request
 * rate (a token bucket per peer). Over the rate a request waits; over `maxInFlight` (waiting ones
 * included) it is refused (the stream reset with BusyError); after `maxRefusals` refusals in the window
 * the peer's connections are closed and it is banned for `banMs`. At most `maxInFlightTotal` requests
 * are served at once; the others wait for a turn.
 */
export class PeerRequestGuard {
  private readonly limits: RequestLimits
  private readonly bans: PeerBanList
  private readonly closer: ConnectionCloser
  private readonly peers = new Map<string, PeerState>()
  /** Requests being served, all peers together, and the turns of those waiting. */
  private serving = 0
  private readonly turns: (() => void)[] = []

  constructor(limits: RequestLimits, closer: ConnectionCloser, bans?: PeerBanList) {
    this.limits = limits
    this.closer = closer
    this.bans = bans ?? new LocalBans()
  }

  /** An admission for a new stream from `connection`'s peer, or the error it is refused with. */
  admit(connection: Connection): Admission | Error {
    const peerId = connection.remotePeer
    const peer = peerId.toString()
    if (this.bans.isBanned(peer)) {
      const err = new PeerFloodingError(`${peer} is banned`)
      connection.abort(err)
      return err
    }
    const state = this.state(peer)
    if (state.inFlight >= this.limits.maxInFlight) return this.refuse(peer, peerId, state, connection)
    state.inFlight++
    const wait = this.takeToken(state)
    let released = false
    let served = false
    const ready = (async () => {
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      await this.turn()
      served = true
    })()
    return {
      ready,
      release: () => {
        if (released) return
        released = true
        state.inFlight--
        if (served) this.endTurn()
        this.forgetIfIdle(peer, state)
      },
    }
  }

  /** Resolves when one more request may be served (at once while fewer than maxInFlightTotal are). */
  private async turn(): Promise<void> {
    if (this.serving < this.limits.maxInFlightTotal) {
      this.serving++
      return
    }
    // The slot passes straight from the request that ends to this one (see endTurn).
    await new Promise<void>((resolve) => this.turns.push(resolve))
  }

  private endTurn(): void {
    const next = this.turns.shift()
    if (next !== undefined) next()
    else this.serving--
  }

  private refuse(peer: string, peerId: PeerId, state: PeerState, connection: Connection): Error {
    const now = Date.now()
    state.refusals = state.refusals.filter((t) => now - t < this.limits.refusalWindowMs)
    state.refusals.push(now)
    if (state.refusals.length < this.limits.maxRefusals) {
      return new BusyError(`${peer} has ${state.inFlight} requests in flight, the most allowed`)
    }
    state.refusals = []
    this.bans.ban(peer, this.limits.banMs)
    const err = new PeerFloodingError(
      `${peer} kept flooding (${this.limits.maxRefusals} requests refused): disconnected, banned for ${this.limits.banMs} ms`,
    )
    connection.abort(err)
    void this.closer.closeConnections?.(peerId).catch(() => {})
    return err
  }

  /** Takes one request token; returns how long the request must wait for it (0 when within the rate). */
  private takeToken(state: PeerState): number {
    const now = performance.now()
    state.tokens = Math.min(
      this.limits.burst,
      state.tokens + ((now - state.last) / 1000) * this.limits.ratePerSec,
    )
    state.last = now
    state.tokens -= 1
    return state.tokens >= 0 ? 0 : (-state.tokens / this.limits.ratePerSec) * 1000
  }

  private state(peer: string): PeerState {
    let state = this.peers.get(peer)
    if (state === undefined) {
      if (this.peers.size >= SWEEP_AT) this.sweep()
      state = { inFlight: 0, tokens: this.limits.burst, last: performance.now(), refusals: [] }
      this.peers.set(peer, state)
    }
    return state
  }

  /**
   * Drops an idle peer's state once nothing about it is left to remember: no request in flight, no recent
   * refusal, a full bucket (forgetting a partly empty one would hand a flooder a fresh burst).
   */
  private forgetIfIdle(peer: string, state: PeerState): void {
    const now = Date.now()
    state.refusals = state.refusals.filter((t) => now - t < this.limits.refusalWindowMs)
    if (state.inFlight > 0 || state.refusals.length > 0) return
    const refilled = state.tokens + ((performance.now() - state.last) / 1000) * this.limits.ratePerSec
    if (refilled >= this.limits.burst) this.peers.delete(peer)
  }

  private sweep(): void {
    for (const [peer, state] of this.peers) this.forgetIfIdle(peer, state)
  }
}
