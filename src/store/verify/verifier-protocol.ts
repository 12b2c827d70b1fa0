import type { BlobKind } from '../index-db/shard-index.ts'

/** Messages to the blob verifier worker. */
export type VerifierRequest =
  | { op: 'begin'; path: string; kind: BlobKind; size: number; etag: boolean; chunks: boolean }
  | { op: 'advance'; upTo: number }
  | { op: 'finish' }

/** Messages from it. */
export type VerifierReply =
  | { op: 'done'; etag: string; offsets: number[]; lengths: number[]; hashes: Uint8Array }
  | { op: 'error'; name: string; message: string }
