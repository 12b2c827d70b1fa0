/** A chunk of a file: where it is and its Xet chunk hash. */
export interface ChunkInfo {
  offset: number
  length: number
  /** 32 raw bytes (see hashToHex for the string form). */
  hash: Uint8Array
}

/** A leaf of the Xet merkle tree. */
export interface ChunkRef {
  hash: Uint8Array
  length: number
}
