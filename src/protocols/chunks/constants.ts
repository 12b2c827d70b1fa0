import { MAX_CHUNK_SIZE } from '../../store/xet/index.ts'

/** Protocol id of chunk transfer. */
export const CHUNKS_PROTOCOL = '/hffs/chunks/1.0.0'

/** Default most chunk hashes in one request. The server refuses larger batches. */
export const MAX_BATCH_SIZE = 64

/** Largest answer frame: a status byte and at most one chunk. */
export const MAX_ANSWER_BYTES = 1 + MAX_CHUNK_SIZE

/**
 * Default batches one peer may have being served (or waiting) at once, over all its connections: a pull
 * keeps a window of at most 8 per blob in flight to a peer, a few blobs and pulls at a time.
 */
export const MAX_IN_FLIGHT_PER_PEER = 64

/**
 * Default inbound streams per connection (one batch each): twice what one peer may have served at
 * once, so that a flooder's extra streams reach the request guard, which counts them against it and
 * disconnects it, instead of being reset by libp2p unseen.
 */
export const MAX_INBOUND_STREAMS = 2 * MAX_IN_FLIGHT_PER_PEER

/** Default outbound streams per connection. */
export const MAX_OUTBOUND_STREAMS = 64

/** Default chunks the server reads ahead of the stream and hands to it in one send (~256 KiB). */
export const SEND_GROUP = 4
