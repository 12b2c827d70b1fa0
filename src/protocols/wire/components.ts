import type { PeerBanList, RequestLimits } from './peer-request-guard.ts'
import type {
  AbortOptions,
  ComponentLogger,
  Connection,
  DialTarget,
  PeerId,
  StreamHandler,
  StreamHandlerOptions,
} from '@libp2p/interface'

/**
 * What the hffs protocol services take from libp2p: the registrar to serve, the connection manager to
 * dial, the logger. Spelled out structurally (libp2p's Registrar and ConnectionManager satisfy them)
 * so that only @libp2p/interface is needed.
 */
export interface ProtocolComponents {
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
  }
  connectionManager: {
    openConnection(peer: DialTarget, options?: AbortOptions): Promise<Connection>
    /** Drops every connection of a peer (a flooder); optional so that test doubles may leave it out. */
    closeConnections?(peer: PeerId, options?: AbortOptions): Promise<void>
  }
  logger: ComponentLogger
}

/** Stream limits and reach shared by every protocol service's options. */
export interface StreamLimitsInit {
  /** Streams of this protocol a remote may have open to us at once, per connection. */
  maxInboundStreams?: number
  /** Streams of this protocol we open at once to one remote, per connection. */
  maxOutboundStreams?: number
  /** Whether to serve and dial over relayed (limited) connections. Default: true (sites meet through relays). */
  runOnLimitedConnection?: boolean
  /** Milliseconds allowed for each message read or written. Default: 10 000. */
  messageTimeout?: number
  /** Per-peer request limits of the server; defaults in ./constants.ts and each protocol's constants. */
  requestLimits?: Partial<RequestLimits>
  /** Where flooders are banned; share one list among the services. Default: a list of this service's own. */
  bans?: PeerBanList
}
