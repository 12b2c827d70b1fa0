import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HubContext } from '../context.ts'
import { sendText } from '../http-util.ts'
import { serveContent } from '../serve-content.ts'

/** `GET|HEAD /_cdn/{sha256}?...&Expires=&Signature=`: the LFS object behind a presigned URL. */
export async function handleCdn(
  ctx: HubContext,
  req: IncomingMessage,
  res: ServerResponse,
  sha256: string,
  query: URLSearchParams,
  signal: AbortSignal,
): Promise<void> {
  const grant = ctx.cdn.verify(sha256, query)
  if (grant === 'invalid') return sendText(req, res, 403, 'AccessDenied: invalid signature')
  if (grant === 'expired') return sendText(req, res, 403, 'AccessDenied: request has expired')
  const file = ctx.hashes.fileForSha256(sha256)
  const st = file && (await stat(file.absPath).catch(() => null))
  if (!file || !st || st.size !== file.size || st.mtimeMs !== file.mtimeMs) {
    return sendText(req, res, 404, 'NoSuchKey: the object changed or is gone')
  }
  await serveContent({
    ctx,
    req,
    res,
    source: { kind: 'file', absPath: file.absPath },
    size: file.size,
    statKey: `${grant.repoKey}/${grant.path}`,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': query.get('response-content-disposition') ?? 'inline',
      ETag: `"${sha256}"`,
      'Last-Modified': new Date(file.mtimeMs).toUTCString(),
      'Cache-Control': 'public, max-age=604800, immutable',
      'X-Cache': 'Miss from cloudfront',
    },
    signal,
  })
}
