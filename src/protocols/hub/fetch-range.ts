import type { FileHandle } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { HubConfig } from './hub-config.ts'
import { HubHttpError, HubUnreachableError } from './hub-errors.ts'
import { hubRequest, type FetchLike } from './hub-request.ts'

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
  for (let attempt = 0; attempt < attempts && start + written < end; attempt++) {
    if (attempt > 0)
      await sleep(Math.min(200 * 2 ** (attempt - 1), 5000), undefined, { signal: params.signal })
    const stall = new AbortController()
    const signal = params.signal === undefined ? stall.signal : AbortSignal.any([params.signal, stall.signal])
    try {
      const res = await hubRequest({
        config: params.config,
        url: params.url,
        what: params.what,
        headers: { range: `bytes=${start + written}-${end - 1}`, 'accept-encoding': 'identity' },
        fetch: params.fetch,
        signal,
      })
      if (res.status !== 206 && !(res.status === 200 && start + written === 0)) {
        await res.body?.cancel()
        throw new HubHttpError(`${params.what}: expected a partial response, got HTTP ${res.status}`, 502)
      }
      if (res.body === null) throw new HubUnreachableError(`${params.what}: empty response body`)
      let timer = setTimeout(() => stall.abort(new Error('stalled')), params.stallMs ?? 30_000)
      try {
        for await (const piece of res.body) {
          clearTimeout(timer)
          timer = setTimeout(() => stall.abort(new Error('stalled')), params.stallMs ?? 30_000)
          const room = end - (start + written)
          const bytes = piece.byteLength > room ? piece.subarray(0, room) : piece
          await writeFully(file, bytes, start + written)
          written += bytes.byteLength
          params.onWritten(bytes.byteLength)
          if (start + written >= end) break
        }
      } finally {
        clearTimeout(timer)
      }
      if (start + written < end)
        failure = new HubUnreachableError(`${params.what}: the connection closed early`)
    } catch (err) {
      params.signal?.throwIfAborted()
      if (err instanceof HubHttpError && !err.retryable) throw err
      failure = err as Error
    }
  }
  if (start + written < end) {
    throw failure ?? new HubUnreachableError(`${params.what}: gave up on bytes ${start + written}-${end - 1}`)
  }
}

async function writeFully(file: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let off = 0
  while (off < data.byteLength) {
    const { bytesWritten } = await file.write(data, off, data.byteLength - off, position + off)
    off += bytesWritten
  }
}
