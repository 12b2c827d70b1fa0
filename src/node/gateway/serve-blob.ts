import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import type { ControlRequest } from '../control-server.ts'
import { rangeAnswer, type RangeAnswer } from './byte-range.ts'
import type { FileMeta } from './file-meta.ts'
import type { GrowingBlob } from './growing-blob.ts'
import { GatewayError, commonHeaders } from './hub-answer.ts'

/**
 * The headers huggingface_hub and @huggingface/hub read on a resolve answer: `X-Repo-Commit`, the quoted
 * `ETag`, and for LFS files `X-Linked-Etag` and `X-Linked-Size` as on the Hub's redirect. No `X-Xet-Hash`:
 * the bytes come from here over plain HTTP, not from a CAS.
 */
export function resolveHeaders(req: ControlRequest, meta: FileMeta): Record<string, string> {
  const headers: Record<string, string> = {
    ...commonHeaders(req),
    'X-Repo-Commit': meta.commit,
    ETag: `"${meta.etag}"`,
    'Accept-Ranges': 'bytes',
    'Content-Type': contentTypeFor(meta.path, meta.lfs),
    'Content-Disposition': contentDisposition(meta.path),
  }
  if (meta.lfs) {
    headers['X-Linked-Etag'] = `"${meta.etag}"`
    headers['X-Linked-Size'] = String(meta.size)
  }
  return headers
}

/** What part of the file an answer sends: status, the headers that say so, and the inclusive byte span. */
export type AnswerSpan = RangeAnswer

/**
 * Applies the request's `Range` to a file of `size` bytes (see rangeAnswer); a 416 is thrown as a
 * GatewayError with `Content-Range: bytes *\/size`.
 */
export function answerSpan(req: ControlRequest, size: number, headers: Record<string, string>): AnswerSpan {
  const span = rangeAnswer(req.raw.headers.range, size, headers)
  if (span.status === 416) throw new GatewayError(416, null, 'Requested Range Not Satisfiable', span.headers)
  return span
}

/** HEAD, or GET of a blob that is complete on disk. */
export async function serveCompleteBlob(req: ControlRequest, path: string, span: AnswerSpan): Promise<void> {
  req.res.writeHead(span.status, span.headers)
  if (req.method === 'HEAD' || span.end < span.start) {
    req.res.end()
    return
  }
  await pipeline(createReadStream(path, { start: span.start, end: span.end }), req.res, {
    signal: req.signal,
  })
}

/**
 * GET of a blob still arriving: the answer starts with the first safe bytes (so an error before them is
 * still a clean status) and follows the pull; if the pull fails later, the connection is cut, which both
 * clients take as a failed download (huggingface_hub resumes it with `Range`).
 */
export async function serveGrowingBlob(
  req: ControlRequest,
  blob: GrowingBlob,
  span: AnswerSpan,
): Promise<void> {
  const { res, signal } = req
  try {
    let pos = span.start
    while (pos <= span.end) {
      const piece = await blob.read(pos, span.end + 1 - pos, signal)
      if (!res.headersSent) res.writeHead(span.status, span.headers)
      pos += piece.byteLength
      if (!res.write(piece)) await drained(req)
    }
    if (!res.headersSent) res.writeHead(span.status, span.headers)
    res.end()
  } finally {
    await blob.close()
  }
}

function drained(req: ControlRequest): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      req.res.off('drain', done)
      req.signal.removeEventListener('abort', done)
      if (req.signal.aborted) reject(new Error('the client went away'))
      else resolve()
    }
    req.res.on('drain', done)
    req.signal.addEventListener('abort', done)
  })
}

function contentTypeFor(path: string, lfs: boolean): string {
  const lower = path.toLowerCase()
  if (lfs) return 'application/octet-stream'
  if (lower.endsWith('.json')) return 'application/json; charset=utf-8'
  if (/\.(md|txt|py|yaml|yml|csv|gitattributes)$/.test(lower)) return 'text/plain; charset=utf-8'
  return 'application/octet-stream'
}

/** `inline; filename*=UTF-8''...; filename="..."`, as the Hub sends. */
function contentDisposition(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1)
  const ascii = base.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `inline; filename*=UTF-8''${encodeURIComponent(base)}; filename="${ascii}"`
}
