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
