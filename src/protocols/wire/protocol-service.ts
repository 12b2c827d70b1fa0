import {
  FLOODER_BAN_MS,
  MAX_IN_FLIGHT_TOTAL,
  MAX_REFUSALS,
  REFUSAL_WINDOW_MS,
  REQUEST_BURST,
  REQUEST_RATE_PER_SEC,
  RUN_ON_LIMITED_CONNECTION,
} from './constants.ts'
import { FramedStream, type FramedStreamOptions } from './framed-stream.ts'
import { PeerRequestGuard, type PeerBanList, type RequestLimits } from './peer-request-guard.ts'
import type { ProtocolComponents } from './components.ts'
import type { Connection, DialTarget, Logger, PeerId, Startable, Stream } from '@libp2p/interface'

export interface ProtocolServiceInit {
  protocol: string
  /** Logger name, e.g. `hffs:chunks`. */
  component: string
  maxInboundStreams: number
  maxOutboundStreams: number
  runOnLimitedConnection?: boolean
  /** Requests one peer may have served at once (the protocol's default), and overrides of any limit. */
  maxInFlightPerPeer: number
  /** Requests served at once for all peers together; default MAX_IN_FLIGHT_TOTAL. */
  maxInFlightTotal?: number
  requestLimits?: Partial<RequestLimits>
  bans?: PeerBanList
}

/** An outbound stream and the peer at its other end. */
export interface OpenedStream {
  stream: Stream
  remotePeer: PeerId
}

/**
 * The Startable part every hffs protocol service shares: `start()` registers the stream handler, `stop()`
 * removes it, either twice is harmless; an inbound stream that fails is aborted and logged in one line,
 * never thrown into libp2p.
 */
export abstract class ProtocolService implements Startable {
  readonly protocol: string
  protected readonly components: ProtocolComponents
  protected readonly log: Logger
  private readonly serviceInit: ProtocolServiceInit
  private readonly guard: PeerRequestGuard
  private started = false

  constructor(components: ProtocolComponents, init: ProtocolServiceInit) {
    this.components = components
    this.serviceInit = init
    this.protocol = init.protocol
    this.log = components.logger.forComponent(init.component)
    const limits: RequestLimits = {
      maxInFlight: init.maxInFlightPerPeer,
      maxInFlightTotal: init.maxInFlightTotal ?? MAX_IN_FLIGHT_TOTAL,
      ratePerSec: REQUEST_RATE_PER_SEC,
      burst: REQUEST_BURST,
      maxRefusals: MAX_REFUSALS,
      refusalWindowMs: REFUSAL_WINDOW_MS,
      banMs: FLOODER_BAN_MS,
      ...init.requestLimits,
    }
    this.guard = new PeerRequestGuard(limits, components.connectionManager, init.bans)
  }

  /** Serves one inbound stream; an error it throws aborts that stream only. */
  protected abstract handleStream(stream: Stream, connection: Connection): Promise<void>

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    try {
      await this.components.registrar.handle(
        this.protocol,
        (stream, connection) => this.serve(stream, connection),
        {
          maxInboundStreams: this.serviceInit.maxInboundStreams,
          maxOutboundStreams: this.serviceInit.maxOutboundStreams,
          runOnLimitedConnection: this.runOnLimitedConnection,
        },
      )
    } catch (err) {
      this.started = false
      throw err
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.components.registrar.unhandle(this.protocol)
  }

  isStarted(): boolean {
    return this.started
  }

  private get runOnLimitedConnection(): boolean {
    return this.serviceInit.runOnLimitedConnection ?? RUN_ON_LIMITED_CONNECTION
  }

  /** Opens a stream of this protocol to a peer (dialing it if needed). */
  protected async openStream(peer: DialTarget, signal?: AbortSignal): Promise<OpenedStream> {
    const connection = await this.components.connectionManager.openConnection(peer, { signal })
    const stream = await connection.newStream(this.protocol, {
      signal,
      runOnLimitedConnection: this.runOnLimitedConnection,
    })
    return { stream, remotePeer: connection.remotePeer }
  }

  /**
   * One request/answer exchange on a fresh stream: closes it when `exchange` returns, aborts it when
   * `exchange` throws (and rethrows).
   */
  protected async exchange<T>(
    peer: DialTarget,
    framing: FramedStreamOptions,
    signal: AbortSignal | undefined,
    exchange: (framed: FramedStream, remotePeer: PeerId) => Promise<T>,
  ): Promise<T> {
    const { stream, remotePeer } = await this.openStream(peer, signal)
    const framed = new FramedStream(stream, framing)
    try {
      const result = await exchange(framed, remotePeer)
      await framed.finish({ signal })
      return result
    } catch (err) {
      framed.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  private async serve(stream: Stream, connection: Connection): Promise<void> {
    const admission = this.guard.admit(connection)
    if (admission instanceof Error) {
      this.log('%s from %p refused: %s', this.protocol, connection.remotePeer, admission.message)
      stream.abort(admission)
      return
    }
    try {
      await admission.ready
      await this.handleStream(stream, connection)
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      this.log('%s from %p aborted: %s: %s', this.protocol, connection.remotePeer, error.name, error.message)
      stream.abort(error)
    } finally {
      admission.release()
    }
  }
}
