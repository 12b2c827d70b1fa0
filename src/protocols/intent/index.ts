/**
 * /hffs/intent/1.0.0: "what are you doing about blob E?" Nodes that need a blob nobody has a manifest for
 * ask each other before going to the Hub, so that a LAN fetches each blob from the Hub once: one node
 * fetches it, the others wait and pull its chunks from that node.
 */
import { DefaultIntentProtocol } from './intent-protocol.ts'
import type { ProtocolComponents, StreamLimitsInit } from '../wire/components.ts'
import type { AbortOptions, DialTarget, Startable } from '@libp2p/interface'

export const INTENT_PROTOCOL = '/hffs/intent/1.0.0'

/** What a node is doing about a blob: nothing, needs it, is fetching it from the Hub, or has it. */
export type IntentState = 'none' | 'wanting' | 'fetching' | 'have'

export interface IntentBoard {
  /** This node's state for the blob. */
  stateOf(etag: string): IntentState
  /** A peer told us its state for the blob. */
  note(etag: string, peerId: string, state: IntentState): void
}

export interface IntentProtocolInit extends StreamLimitsInit {
  board: IntentBoard
}

export interface IntentProtocol extends Startable {
  readonly protocol: string
  /** Tells the peer our state for the blob; returns its own. */
  ask(peer: DialTarget, etag: string, ours: IntentState, options?: AbortOptions): Promise<IntentState>
}

export function intentProtocol(init: IntentProtocolInit): (components: ProtocolComponents) => IntentProtocol {
  return (components) => new DefaultIntentProtocol(components, init)
}
