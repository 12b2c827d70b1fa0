import { multiaddr } from '@multiformats/multiaddr'
import type { NodeConfig } from './node-config.ts'
import type { RelayServerLimits } from './relay-server.ts'

/** The relay server caps of a config, or undefined when the node is not a relay. */
export function relayServerLimits(config: NodeConfig): RelayServerLimits | undefined {
  if (config.relayServer !== true) return undefined
  return {
    maxReservations: config.relayMaxReservations,
    maxBytes: config.relayMaxBytes,
    maxDurationMs: config.relayMaxDurationMs,
  }
}

/** The peer id a relay multiaddr ends with (node-config checks that it does). */
export function relayPeerId(addr: string): string {
  return multiaddr(addr).getComponents().at(-1)?.value ?? ''
}
