import type { IncomingMessage, ServerResponse } from 'node:http'
import { pumpContent, type ContentSource } from './content-pump.ts'
import type { HubContext } from './context.ts'
import { sendText } from './http-util.ts'
import { parseRange } from './range.ts'

export interface ServeContentInit {
  ctx: HubContext
  req: IncomingMessage
  res: ServerResponse
  source: ContentSource
  size: number
  /** Stats key `"<type>/<repo>/<path>"`. */
  statKey: string
  /** ETag, X-Repo-Commit, Content-Type, ... */
  headers: Record<string, string>
  signal: AbortSignal
}

/** Answers HEAD or GET for file content, honouring one `Range` (200, 206 or 416). */
export async function serveContent(init: ServeContentInit): Promise<void> {
  const { ctx, req, res, size } = init
  const headers: Record<string, string> = { ...init.headers, 'Accept-Ranges': 'bytes' }
  const range = parseRange(req.headers.range, size)
  if (range.kind === 'unsatisfiable' && size > 0) {
    sendText(req, res, 416, 'Requested Range Not Satisfiable', {
      ...headers,
      'Content-Range': `bytes */${size}`,
    })
    return
  }
  let status = 200
  let start = 0
  let end = size - 1
  if (range.kind === 'partial') {
    status = 206
    start = range.start
    end = range.end
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`
  } else if (range.kind === 'unsatisfiable') {
    // Every range of an empty file is unsatisfiable. Sending it whole (allowed by RFC 9110)
    // with the total in Content-Range lets @huggingface/hub, which probes `bytes=0-0` and
    // needs Content-Range, download empty files.
    headers['Content-Range'] = 'bytes */0'
  }
  headers['Content-Length'] = String(end - start + 1)
  if (req.method === 'HEAD') {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const faults = ctx.faults.takeContentFaults()
  res.writeHead(status, headers)
  await pumpContent({
    res,
    source: init.source,
    start,
    end,
    statKey: init.statKey,
    limiter: ctx.limiter,
    stats: ctx.stats,
    faults,
    signal: init.signal,
  })
}
