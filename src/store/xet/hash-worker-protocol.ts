/** Messages between XetChunker's pool and hash-worker.ts. */

/** Given once, as workerData: the slabs that jobs point into. */
export interface HashWorkerData {
  slabs: SharedArrayBuffer[]
}

/** Hash the chunks at `spans` = [offset0, length0, offset1, length1, ...] of slab `slab`. */
export interface HashJob {
  id: number
  slab: number
  spans: Uint32Array
}

export type HashWorkerReply =
  | { type: 'ready' }
  /** 32 bytes per span, in order. */
  | { type: 'hashed'; id: number; hashes: Uint8Array }
  | { type: 'failed'; id: number; message: string }
