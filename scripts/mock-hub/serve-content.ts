import type { IncomingMessage, ServerResponse } from 'node:http'
import { pumpContent, type ContentSource } from './content-pump.ts'
import type { HubContext } from './context.ts'
import { sendText } from './http-util.ts'
import { rangeAnswer } from '../../src/node/gateway/byte-range.ts'

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
  const span = rangeAnswer(req.headers.range, size, headers)
  if (span.status === 416) {
    sendText(req, res, 416, 'Requested Range Not Satisfiable', span.headers)
    return
  }
  const { status, start, end } = span
  Object.assign(headers, span.headers)
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
