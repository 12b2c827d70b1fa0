/** Messages between WriteWorker (write-worker.ts) and its thread (write-worker-thread.ts). */

/**
 * Check the chunks at `spans` ([offset, length] pairs in `buffer`) against `expected` (32 bytes each, in
 * order), then write `length` bytes of `buffer` to file descriptor `fd` at `position`.
 */
export interface WriteJob {
  id: number
  fd: number
  buffer: ArrayBuffer
  length: number
  position: number
  spans: Uint32Array
  expected: Uint8Array
}

export type WriteReply =
  | {
      id: number
      buffer: ArrayBuffer
      /** Indices (into the spans) of the chunks that do not match; `got` has their hashes, 32 bytes each. */
      bad: number[]
      got: Uint8Array
    }
  /** The write failed (`code`: the system error's, such as ENOSPC); the buffer comes back too. */
  | { id: number; buffer: ArrayBuffer; error: string; code?: string }
