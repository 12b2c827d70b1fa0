import { MAX_CHUNK_SIZE } from '../../store/xet/index.ts'

/** Protocol id of chunk transfer. */
export const CHUNKS_PROTOCOL = '/hffs/chunks/1.0.0'

/** Default most chunk hashes in one request. The server refuses larger batches. */
export const MAX_BATCH_SIZE = 64

/** Largest answer frame: a status byte and at most one chunk. */
export const MAX_ANSWER_BYTES = 1 + MAX_CHUNK_SIZE

/** Default inbound streams per connection (one batch each). */
export const MAX_INBOUND_STREAMS = 32

/** Default outbound streams per connection. */
export const MAX_OUTBOUND_STREAMS = 64

/** Default chunks the server reads ahead of the stream and hands to it in one send (~256 KiB). */
export const SEND_GROUP = 4
