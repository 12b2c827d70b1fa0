import { circuitRelayServer, type CircuitRelayService } from '@libp2p/circuit-relay-v2'
import {
  RELAY_MAX_DURATION_CAP_MS,
  RELAY_MAX_RESERVATIONS,
  RELAY_MAX_STOP_STREAMS,
  RELAY_RESERVATION_TTL_MS,
} from './relay-constants.ts'

/** The caps of a relay server (config relayMaxReservations, relayMaxBytes, relayMaxDurationMs). */
export interface RelayServerLimits {
  /** Clients holding a reservation at most; default RELAY_MAX_RESERVATIONS (128). */
  maxReservations?: number
  /** Bytes one relayed connection may carry, both ways; 0 or absent = no cap. */
  maxBytes?: number
  /** How long one relayed connection may stay open, ms; 0 or absent = no cap. */
  maxDurationMs?: number
}

/**
 * A circuit-relay v2 server for bulk transfer. libp2p's defaults (128 KiB and 2 minutes per relayed
 * connection) suit hole punching, not models: with no cap configured, relayed connections carry no limit at
 * all (so they are not "limited" connections either); with a cap, the other one is as large as allowed.
 */
export function relayServer(limits: RelayServerLimits = {}): (components: never) => CircuitRelayService {
  const maxBytes = limits.maxBytes ?? 0
  const maxDurationMs = limits.maxDurationMs ?? 0
  const capped = maxBytes > 0 || maxDurationMs > 0
  return circuitRelayServer({
    reservations: {
      maxReservations: limits.maxReservations ?? RELAY_MAX_RESERVATIONS,
      reservationTtl: RELAY_RESERVATION_TTL_MS,
      applyDefaultLimit: capped,
      ...(capped
        ? {
            defaultDataLimit: BigInt(maxBytes > 0 ? maxBytes : Number.MAX_SAFE_INTEGER),
            defaultDurationLimit: maxDurationMs > 0 ? maxDurationMs : RELAY_MAX_DURATION_CAP_MS,
          }
        : {}),
    },
    maxOutboundStopStreams: RELAY_MAX_STOP_STREAMS,
  }) as (components: never) => CircuitRelayService
}
