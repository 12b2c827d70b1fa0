import type { FileHandle } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { HubConfig } from './hub-config.ts'
import { HubHttpError, HubUnreachableError } from './hub-errors.ts'
import type { FetchLike } from './hub-request.ts'
import { rangeRequest } from './range-request.ts'

export interface FetchRangeParams {
  config: HubConfig
  url: string
  /** Inclusive start and exclusive end of the bytes wanted. */
  start: number
  end: number
  /** Bytes of this range already on disk (resume point). */
  written: number
  file: FileHandle
  what: string
  fetch?: FetchLike
  signal?: AbortSignal
  /** Called after each write with the bytes just written. */
  onWritten: (bytes: number) => void
  /** Attempts at the whole range, resuming after each failure; default 6. */
  attempts?: number
  /** Abort a response that delivers no byte for this long; default 30 s. */
  stallMs?: number
}

/**
 * Fetches bytes [start+written, end) with HTTP Range and writes them at their offsets. A dropped connection
 * or a 5xx resumes from the last byte written, with backoff; the bytes are checked later, by the blob hash.
 */
export async function fetchRange(params: FetchRangeParams): Promise<void> {
  const { start, end, file } = params
  let written = params.written
  const attempts = params.attempts ?? 6
  let failure: Error | null = null
  /** Writing the file failed (a full disk, say): not the network's doing, so no retry either. */
  const writes = { failure: null as { error: unknown } | null }
  for (let attempt = 0; attempt < attempts && start + written < end; attempt++) {
    if (attempt > 0)
      await sleep(Math.min(200 * 2 ** (attempt - 1), 5000), undefined, { signal: params.signal })
    const stall = new AbortController()
    const signal = params.signal === undefined ? stall.signal : AbortSignal.any([params.signal, stall.signal])
    try {
      const res = await rangeRequest(
        params.config,
        params.url,
        `bytes=${start + written}-${end - 1}`,
        params.what,
        signal,
      )
      if (res.status !== 206 && !(res.status === 200 && start + written === 0)) {
        res.cancel()
        throw new HubHttpError(`${params.what}: expected a partial response, got HTTP ${res.status}`, 502)
      }
      let timer = setTimeout(() => stall.abort(new Error('stalled')), params.stallMs ?? 30_000)
      // Pieces are gathered and written with one writev per ~1 MiB: a write per 64 KiB piece costs more
      // in thread-pool round trips than the copy it saves.
      let pieces: Uint8Array[] = []
      let gathered = 0
      let gatheringSince = 0
      const flush = async (): Promise<void> => {
        if (gathered === 0) return
        const batch = pieces
        const n = gathered
        pieces = []
        gathered = 0
        try {
          await writevFully(file, batch, start + written)
        } catch (error) {
          writes.failure ??= { error }
          throw error
        }
        written += n
        params.onWritten(n)
      }
      try {
        await res.forEachPiece((piece) => {
          clearTimeout(timer)
          timer = setTimeout(() => stall.abort(new Error('stalled')), params.stallMs ?? 30_000)
          const room = end - (start + written + gathered)
          // More than the range (a server that ignored it and sends the whole file): stop there.
          if (room === 0) return false
          const bytes = piece.byteLength > room ? piece.subarray(0, room) : piece
          if (gathered === 0) gatheringSince = performance.now()
          pieces.push(bytes)
          gathered += bytes.byteLength
          // Full, or held long enough that a killed process would lose much of a slow link's bytes.
          const due = gathered >= WRITE_BATCH || performance.now() - gatheringSince >= WRITE_AFTER_MS
          return due ? flush().then(() => true) : true
        })
      } finally {
        // What arrived is written even after a failure, so that a retry resumes past it; a write that
        // fails here is reported below, not taken for a short body.
        await flush().catch(() => {})
        clearTimeout(timer)
      }
      if (writes.failure !== null) throw writes.failure.error
      if (start + written < end)
        failure = new HubUnreachableError(`${params.what}: the connection closed early`)
    } catch (err) {
      if (writes.failure !== null) throw writes.failure.error
      params.signal?.throwIfAborted()
      if (err instanceof HubHttpError && !err.retryable) throw err
      failure = err as Error
    }
  }
  if (start + written < end) {
    throw failure ?? new HubUnreachableError(`${params.what}: gave up on bytes ${start + written}-${end - 1}`)
  }
}

const WRITE_BATCH = 1024 * 1024
/**
 * Pieces are written at least this soon after the first of them came: over a slow link (3 MiB/s a
 * connection) a batch took ~0.3 s to fill, and a process killed then lost up to a batch per connection,
 * fetched again on resume (a 24 MiB download killed halfway refetched 1.4-2.5 MiB).
 */
const WRITE_AFTER_MS = 50

async function writevFully(file: FileHandle, pieces: Uint8Array[], position: number): Promise<void> {
  let { bytesWritten } = await file.writev(pieces, position)
  // Short writes are rare (a full disk raises instead); finish byte by byte in order if one happens.
  let pos = position + bytesWritten
  for (const p of pieces) {
    if (bytesWritten >= p.byteLength) {
      bytesWritten -= p.byteLength
      continue
    }
    let off = bytesWritten
    bytesWritten = 0
    while (off < p.byteLength) {
      const r = await file.write(p, off, p.byteLength - off, pos)
      off += r.bytesWritten
      pos += r.bytesWritten
    }
  }
}
