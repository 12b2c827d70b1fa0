import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { CONTENT_SLICE_BYTES } from './constants.ts'
import type { ContentFaults } from './faults.ts'
import type { RateLimiter } from './rate-limiter.ts'
import type { StatsRecorder } from './stats.ts'

/** Where content bytes come from: a file on disk or a small buffer (LFS pointers). */
export type ContentSource = { kind: 'file'; absPath: string } | { kind: 'buffer'; data: Uint8Array }

export interface PumpInit {
  res: ServerResponse
  source: ContentSource
  /** Byte range to send, end inclusive; `end < start` sends nothing. */
  start: number
  end: number
  /** Stats key `"<type>/<repo>/<path>"`. */
  statKey: string
  limiter: RateLimiter
  stats: StatsRecorder
  faults: ContentFaults
  /** Aborted when the client goes away or the hub closes. */
  signal: AbortSignal
}

function chunksOf(init: PumpInit): AsyncIterable<Buffer> | Iterable<Buffer> {
  if (init.end < init.start) return []
  if (init.source.kind === 'buffer') return [Buffer.from(init.source.data.subarray(init.start, init.end + 1))]
  return createReadStream(init.source.absPath, {
    start: init.start,
    end: init.end,
    highWaterMark: 256 * 1024,
    signal: init.signal,
  })
}

/**
 * Writes the body of a file response in slices: each paced by the shared rate limiter,
 * counted in stats, and broken as the faults say. Ends the response; on a drop fault,
 * closes the connection once the allowed bytes are out.
 */
export async function pumpContent(init: PumpInit): Promise<void> {
  const { res, limiter, stats, faults, signal } = init
  let sent = 0
  for await (const chunk of chunksOf(init)) {
    // unthrottled, a whole read chunk goes out at once; throttled, slices keep pacing smooth
    const step = limiter.limited ? CONTENT_SLICE_BYTES : chunk.byteLength
    for (let off = 0; off < chunk.byteLength; off += step) {
      let slice = chunk.subarray(off, off + step)
      await limiter.take(slice.byteLength, signal)
      const truncated = faults.dropAfter !== undefined && sent + slice.byteLength > faults.dropAfter
      if (truncated) slice = slice.subarray(0, faults.dropAfter! - sent)
      if (faults.corrupt && slice.byteLength > 0) {
        slice = Buffer.from(slice)
        slice[0] ^= 0xff
      }
      // counted when handed to the socket, so that a client that has the bytes always sees
      // them in the stats; taken back if the socket fails before flushing them
      const n = slice.byteLength
      stats.contentWritten(init.statKey, n)
      const ok = res.write(slice, (err) => {
        if (err) stats.contentWritten(init.statKey, -n)
      })
      sent += n
      if (truncated) return dropConnection(res)
      if (!ok) await once(res, 'drain', { signal })
    }
  }
  res.end()
}

/** Closes the connection after what was written so far: the client sees a short body. */
function dropConnection(res: ServerResponse): void {
  res.flushHeaders()
  res.socket?.destroySoon()
}
