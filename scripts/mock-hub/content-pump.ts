import { once } from 'node:events'
import { open } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { CONTENT_SLICE_BYTES } from './constants.ts'
import type { ContentFaults } from './faults.ts'
import type { RateLimiter } from './rate-limiter.ts'
import type { StatsRecorder } from './stats.ts'

/** Where content bytes come from: a file on disk or a small buffer (LFS pointers). */
export type ContentSource = { kind: 'file'; absPath: string } | { kind: 'buffer'; data: Uint8Array }

/**
 * A file body is read into a few buffers of this size that take turns: one is reused once the socket has
 * taken what was written from it. Fresh 256 KiB buffers for every read (fs.createReadStream) cost the mock
 * about 0.5 CPU-s of garbage collection per GiB served, on the same cores as the client under test; a Hub
 * CDN costs the client's machine nothing.
 */
const READ_BYTES = 256 * 1024
const READ_BUFFERS = 4

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

/** A piece of the body, and what to call once the socket no longer needs its bytes. */
interface Piece {
  data: Buffer
  release: () => void
}

/** Buffers handed out one at a time and given back when done with; acquire() waits for one. */
class BufferRing {
  readonly #free: Buffer[]
  readonly #waiting: ((buf: Buffer) => void)[] = []

  constructor(count: number, size: number) {
    this.#free = Array.from({ length: count }, () => Buffer.allocUnsafe(size))
  }

  async acquire(signal: AbortSignal): Promise<Buffer> {
    signal.throwIfAborted()
    const buf = this.#free.pop()
    if (buf !== undefined) return buf
    let onAbort = (): void => {}
    return new Promise<Buffer>((resolve, reject) => {
      onAbort = () => reject(signal.reason as Error)
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waiting.push(resolve)
    }).finally(() => signal.removeEventListener('abort', onAbort))
  }

  release(buf: Buffer): void {
    const next = this.#waiting.shift()
    if (next !== undefined) next(buf)
    else this.#free.push(buf)
  }
}

async function* piecesOf(init: PumpInit): AsyncIterable<Piece> {
  const { source, start, end, signal } = init
  if (end < start) return
  if (source.kind === 'buffer') {
    yield { data: Buffer.from(source.data.subarray(start, end + 1)), release: () => {} }
    return
  }
  const ring = new BufferRing(READ_BUFFERS, READ_BYTES)
  const fh = await open(source.absPath, 'r')
  try {
    for (let at = start; at <= end;) {
      const buf = await ring.acquire(signal)
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end + 1 - at), at)
      if (bytesRead === 0) throw new Error(`${source.absPath} ended at ${at} bytes, before ${end + 1}`)
      at += bytesRead
      yield { data: buf.subarray(0, bytesRead), release: () => ring.release(buf) }
    }
  } finally {
    await fh.close()
  }
}

/**
 * Writes the body of a file response in slices: each paced by the shared rate limiter,
 * counted in stats, and broken as the faults say. Ends the response; on a drop fault,
 * closes the connection once the allowed bytes are out.
 */
export async function pumpContent(init: PumpInit): Promise<void> {
  const { res, limiter, stats, faults, signal } = init
  let sent = 0
  for await (const piece of piecesOf(init)) {
    const chunk = piece.data
    // unthrottled, a whole read piece goes out at once; throttled, slices keep pacing smooth
    const step = limiter.limited ? CONTENT_SLICE_BYTES : chunk.byteLength
    let unflushed = 1 // the loop's own hold, dropped after it: the piece is free when every write is out
    const flushed = (): void => {
      if (--unflushed === 0) piece.release()
    }
    try {
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
        unflushed++
        const ok = res.write(slice, (err) => {
          if (err) stats.contentWritten(init.statKey, -n)
          flushed()
        })
        sent += n
        if (truncated) return dropConnection(res)
        if (!ok) await once(res, 'drain', { signal })
      }
    } finally {
      flushed()
    }
  }
  res.end()
}

/** Closes the connection after what was written so far: the client sees a short body. */
function dropConnection(res: ServerResponse): void {
  res.flushHeaders()
  res.socket?.destroySoon()
}
