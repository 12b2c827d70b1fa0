export type { ChunkInfo, ChunkRef } from './types.ts'
export { initXet, chunkHash } from './keyed-hashers.ts'
export { hashToHex, hexToHash } from './hash-hex.ts'
export { sameHash } from './same-hash.ts'
export { xorbHash, fileHash } from './merkle-hash.ts'
export { ChunkBoundaryScanner } from './boundary-scanner.ts'
export { XetChunker, type XetChunkerOptions } from './xet-chunker.ts'
export { chunkBytes } from './chunk-bytes.ts'
export {
  InvalidXetHashError,
  XetChunkerStateError,
  XetNotInitializedError,
  XetWorkerError,
} from './errors.ts'
export {
  DATA_KEY,
  HASH_BYTES,
  INTERNAL_NODE_KEY,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  TARGET_CHUNK_SIZE,
} from './constants.ts'
