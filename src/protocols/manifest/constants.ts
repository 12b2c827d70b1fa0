/** Protocol id of snapshot listings and blob manifests. */
export const MANIFEST_PROTOCOL = '/hffs/manifest/1.0.0'

/** Largest request accepted by the server, in bytes (a repo id, a revision, an etag). */
export const MAX_REQUEST_BYTES = 4096

/** Default largest snapshot listing accepted by the client, in bytes: about 100 000 files. */
export const MAX_LISTING_BYTES = 16 * 1024 * 1024

/** Default largest number of files in a listing accepted by the client. */
export const MAX_LISTING_FILES = 200_000

/** Longest path accepted in a listing entry, in characters (the caller validates paths further). */
export const MAX_LISTING_PATH_LENGTH = 4096

/**
 * Manifest entries per page, fixed by the protocol: a manifest travels as a header and then pages of at
 * most this many 36-byte entries (576 KiB), so no message grows with the blob.
 */
export const MANIFEST_PAGE_CHUNKS = 16_384

/** Bytes of one packed manifest entry: a 32-byte chunk hash and a u32 little-endian length. */
export const MANIFEST_ENTRY_BYTES = 36

/** Default largest manifest accepted by the client, in chunks: about 128 GiB of 64 KiB chunks. */
export const MAX_MANIFEST_CHUNKS = 2_097_152

/** Default requests one peer may have being served at once, over all its connections (a pull asks one per blob). */
export const MAX_IN_FLIGHT_PER_PEER = 32

/**
 * Default inbound streams per connection (one request each): twice what one peer may have served at
 * once, so that a flooder's extra streams reach the request guard, which counts them against it and
 * disconnects it, instead of being reset by libp2p unseen.
 */
export const MAX_INBOUND_STREAMS = 2 * MAX_IN_FLIGHT_PER_PEER

/** Default outbound streams per connection. */
export const MAX_OUTBOUND_STREAMS = 64
