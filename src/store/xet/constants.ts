/** Xet content-defined chunking parameters (xet-core `Chunker::new(64 KiB)`, hf_xet >= 1.1.10). */
export const TARGET_CHUNK_SIZE = 65536
export const MIN_CHUNK_SIZE = TARGET_CHUNK_SIZE / 8
export const MAX_CHUNK_SIZE = TARGET_CHUNK_SIZE * 2

/** A cut is allowed where the top 16 bits of the gear hash are zero: where it is below this. */
export const GEAR_CANDIDATE_BELOW = 1n << 48n

/** The gear hash depends only on the last 64 bytes, one bit shifted out per byte. */
export const GEAR_WINDOW = 64

export const HASH_BYTES = 32

/** BLAKE3 key of chunk hashes (xet-core `merklehash/data_hash.rs` DATA_KEY). */
export const DATA_KEY = new Uint8Array([
  102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28, 157, 228, 33, 16, 155, 235, 43,
  88, 180, 208, 176, 75, 147, 173, 242, 41,
])

/** BLAKE3 key of merkle internal nodes (xet-core INTERNAL_NODE_KEY). */
export const INTERNAL_NODE_KEY = new Uint8Array([
  1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230, 93, 221, 83, 111, 55, 199, 109,
  210, 248, 99, 82, 230, 74, 83, 113, 63,
])

/** The file hash is the root keyed with the (always zero) salt. */
export const FILE_HASH_KEY = new Uint8Array(HASH_BYTES)

/** Mean branching factor of the aggregated merkle tree; a node has at most 2 * 4 + 1 children. */
export const MERKLE_BRANCHING = 4
export const MERKLE_MAX_CHILDREN = 2 * MERKLE_BRANCHING + 1
