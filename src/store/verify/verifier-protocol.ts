import type { BlobKind } from '../index-db/shard-index.ts'

/** Messages to the blob verifier worker, each about one job (a Verifier handle: one blob at a time). */
export type VerifierRequest =
  | { op: 'begin'; job: number; path: string; kind: BlobKind; size: number; etag: boolean; chunks: boolean }
  | { op: 'advance'; job: number; upTo: number }
  | { op: 'finish'; job: number }
  /** The handle is done with: its state goes. */
  | { op: 'end'; job: number }

/** Messages from it. */
export type VerifierReply =
  | { op: 'done'; job: number; etag: string; offsets: number[]; lengths: number[]; hashes: Uint8Array }
  | { op: 'error'; job: number; name: string; message: string }
