/** Protocol id of have-maps and their updates. */
export const HAVE_PROTOCOL = '/hffs/have/1.0.0'

/** Largest request accepted by the server, in bytes (an etag). */
export const MAX_REQUEST_BYTES = 256

/** Most chunk indices in one update message, fixed by the protocol; the server splits larger announcements. */
export const MAX_UPDATE_INDICES = 4096

/** Default largest have-map accepted by the client, in chunks (a 256 KiB bitmap, ~128 GiB of blob). */
export const MAX_HAVE_CHUNKS = 2_097_152

/** Default subscriptions one peer may hold open on this node at once, over all its connections. */
export const MAX_SUBSCRIPTIONS_PER_PEER = 32

/**
 * Default have streams one peer may have open on this node at once, over all its connections: room above
 * MAX_SUBSCRIPTIONS_PER_PEER so that a peer over its limit gets a `busy` answer rather than a reset stream.
 */
export const MAX_IN_FLIGHT_PER_PEER = MAX_SUBSCRIPTIONS_PER_PEER + 8

/**
 * Default inbound streams per connection (one subscription each): twice what one peer may have served at
 * once, so that a flooder's extra streams reach the request guard, which counts them against it and
 * disconnects it, instead of being reset by libp2p unseen.
 */
export const MAX_INBOUND_STREAMS = 2 * MAX_IN_FLIGHT_PER_PEER

/**
 * Default have streams open at once for all peers together: subscriptions are long-lived and small (a
 * listener and a few KiB), and a LAN of dozens of peers pulling several blobs each holds hundreds.
 */
export const MAX_IN_FLIGHT_TOTAL = 2048

/** Default outbound streams per connection. */
export const MAX_OUTBOUND_STREAMS = 64
