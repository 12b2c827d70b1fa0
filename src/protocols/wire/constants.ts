/** Default time allowed for each message read or written on any hffs protocol stream. */
export const MESSAGE_TIMEOUT = 10_000

/** Default for serving and dialing over relayed (limited) connections. */
export const RUN_ON_LIMITED_CONNECTION = true

/**
 * Default per-peer request limits of every hffs protocol server (each protocol sets its own `maxInFlight`).
 * A pull asks one peer for at most a few dozen requests per second (batches of 64 chunks, one manifest and
 * one have-map per blob), a thousand only for a repo of tiny files on a fast LAN: past 1 000 per second a
 * peer is throttled, which costs a legitimate one nothing. 32 refusals in 10 s cannot be an accident (a
 * client stays under the stream limits per connection), so that peer is disconnected and banned for a minute.
 * Half the headroom between a protocol's in-flight limit and its stream cap per connection (twice that
 * limit), where libp2p resets further streams before they reach the guard: a flooder on one connection is
 * caught well before.
 */
export const REQUEST_RATE_PER_SEC = 1000

/**
 * Default requests one protocol serves at once for all peers together (more wait for a turn). A stalled
 * chunk stream holds up to two groups of chunks (~512 KiB): 256 bound that to ~128 MiB whatever the number
 * of peers, and a waiting request holds only its request message.
 */
export const MAX_IN_FLIGHT_TOTAL = 256
export const REQUEST_BURST = 1000
export const MAX_REFUSALS = 32
export const REFUSAL_WINDOW_MS = 10_000
export const FLOODER_BAN_MS = 60_000
