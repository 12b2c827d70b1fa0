/**
 * /hffs/have/1.0.0: which chunks of a blob a peer holds (a bitmap over the blob's manifest), then the
 * chunks it gets afterwards, pushed as it verifies them, so that peers still downloading also serve.
 * Served from a HaveSource.
 */
import { DefaultHaveProtocol } from './have-protocol.ts'
import type { HaveSubscription } from './have-subscription.ts'
import type { HaveSource } from '../sources.ts'
import type { ProtocolComponents, StreamLimitsInit } from '../wire/components.ts'
import type { AbortOptions, DialTarget, Startable } from '@libp2p/interface'

export { HAVE_PROTOCOL } from './constants.ts'
export { hasBit, setBit } from './bitfield.ts'
export type { HaveSubscription } from './have-subscription.ts'

export interface HaveProtocolInit extends StreamLimitsInit {
  /** Where have-maps and their updates come from. */
  haves: HaveSource
  /** Largest have-map accepted from a peer, in chunks. Default: 2 097 152 (a 256 KiB bitmap). */
  maxChunks?: number
  /** Subscriptions one peer may hold open on this node at once; past it the answer is `busy`. Default: 32. */
  maxSubscriptionsPerPeer?: number
}

export interface HaveProtocol extends Startable {
  readonly protocol: string
  /** Subscriptions this node is serving right now. */
  readonly servingCount: number
  /**
   * Subscribes to a peer's chunks of a blob: the answer carries its have-map, iterating it yields the
   * indices it gets afterwards. `signal` cancels the subscription at any point, not just the request.
   * Throws NotFoundError when the peer has no such blob, BusyError when it refuses more subscriptions.
   */
  subscribeHave(peer: DialTarget, etag: string, options?: AbortOptions): Promise<HaveSubscription>
}

export function haveProtocol(init: HaveProtocolInit): (components: ProtocolComponents) => HaveProtocol {
  return (components) => new DefaultHaveProtocol(components, init)
}
