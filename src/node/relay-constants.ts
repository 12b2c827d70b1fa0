// Defaults of the circuit relay, server and client side; each is documented where it is used.

/** A relay server holds at most this many reservations (libp2p's default, 15, is too few for a site). */
export const RELAY_MAX_RESERVATIONS = 128

/** Longest relayed-connection duration cap: timers take at most a signed 32-bit number of ms. */
export const RELAY_MAX_DURATION_CAP_MS = 2 ** 31 - 1

/** How long a reservation lasts before the client refreshes it (libp2p's default). */
export const RELAY_RESERVATION_TTL_MS = 2 * 60 * 60_000

/** Relayed connections (STOP streams) a node serves or opens at once. */
export const RELAY_MAX_STOP_STREAMS = 300

/** Reservations are checked this often; a lost one is made again, first after RETRY_MIN, doubling to MAX. */
export const RELAY_CHECK_MS = 2_000
export const RELAY_RETRY_MIN_MS = 1_000
export const RELAY_RETRY_MAX_MS = 30_000

/** Peers behind the relays are looked up in the DHT this often, and this soon after a relay connects. */
export const RELAY_PEER_SEARCH_MS = 10_000
export const RELAY_PEER_SEARCH_DELAY_MS = 1_000
/** One DHT lookup gives up after this long. */
export const RELAY_PEER_SEARCH_TIMEOUT_MS = 20_000
/** Peers dialled per search at most, a few at a time, each dial bounded (direct addresses time out first). */
export const RELAY_PEER_SEARCH_MAX_DIALS = 64
export const RELAY_DIAL_CONCURRENCY = 4
export const RELAY_DIAL_TIMEOUT_MS = 30_000
