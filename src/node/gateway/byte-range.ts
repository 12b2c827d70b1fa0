/** A `Range` request header against a representation of `size` bytes (RFC 9110 §14). */
export type ByteRange =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number /* inclusive */ }
  | { kind: 'unsatisfiable' }

/**
 * One `bytes=a-b`, `bytes=a-` or `bytes=-n` range. Anything else (another unit, several ranges, bad syntax)
 * is ignored and the whole representation is sent, as the RFC allows; huggingface_hub sends `bytes=N-` to
 * resume and @huggingface/hub `bytes=0-0` to probe.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined || header === '') return { kind: 'full' }
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim())
  if (m === null || (m[1] === '' && m[2] === '')) return { kind: 'full' }
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const last = m[2] === '' ? Infinity : Number(m[2])
  if (last < start) return { kind: 'full' }
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end: Math.min(last, size - 1) }
}

/** What part of a file an answer sends: status, the headers that say so, and the inclusive byte span. */
export interface RangeAnswer {
  status: number
  headers: Record<string, string>
  start: number
  end: number
}

/**
 * Applies a `Range` header to a file of `size` bytes: 200 whole, 206 with `Content-Range`, or 416 with
 * `Content-Range: bytes *\/size` (status 416, empty span). An empty file gets 200 with `bytes *\/0`: every
 * range of it is unsatisfiable, but @huggingface/hub probes `bytes=0-0` and needs Content-Range to learn
 * its size, which a 416 would not tell it.
 */
export function rangeAnswer(
  header: string | undefined,
  size: number,
  headers: Record<string, string>,
): RangeAnswer {
  const range = parseByteRange(header, size)
  const out = { ...headers }
  if (range.kind === 'unsatisfiable' && size > 0) {
    return { status: 416, headers: { ...out, 'Content-Range': `bytes */${size}` }, start: 0, end: -1 }
  }
  let start = 0
  let end = size - 1
  let status = 200
  if (range.kind === 'partial') {
    status = 206
    start = range.start
    end = range.end
    out['Content-Range'] = `bytes ${start}-${end}/${size}`
  } else if (range.kind === 'unsatisfiable') {
    out['Content-Range'] = 'bytes */0'
  }
  out['Content-Length'] = String(end - start + 1)
  return { status, headers: out, start, end }
}
