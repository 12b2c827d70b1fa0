import type { ControlRequest } from '../control-server.ts'
import { commonHeaders } from './hub-answer.ts'
import type { UpstreamAnswer } from './upstream.ts'

/** Headers of an upstream metadata answer that clients read, passed on. */
const RELAYED = [
  'content-type',
  'x-error-code',
  'x-error-message',
  'x-repo-commit',
  'x-total-count',
  'link',
  'location',
  'etag',
  'last-modified',
  'cache-control',
]

/**
 * Sends an upstream metadata answer on as the client's: status, body and the headers it reads, with
 * `Link` targets (tree pagination) moved from the upstream to this gateway so that the client's next page
 * comes through here too.
 */
export function relayAnswer(
  req: ControlRequest,
  answer: UpstreamAnswer,
  endpoint: string,
  options: { withoutXetHashes?: boolean } = {},
): void {
  const body = options.withoutXetHashes === true ? withoutXetHashes(answer) : answer.body
  const headers: Record<string, string> = commonHeaders(req)
  for (const name of RELAYED) {
    const value = answer.headers.get(name)
    if (value !== null) headers[name] = value
  }
  if (headers.link !== undefined) headers.link = rewriteLinks(headers.link, endpoint, gatewayOrigin(req))
  headers['content-length'] = String(body.byteLength)
  req.res.writeHead(answer.status, headers)
  req.res.end(req.method === 'HEAD' ? undefined : body)
}

/**
 * Tree and paths-info entries without `xetHash`: huggingface_hub (>= 1.22, with hf_xet) skips the HEAD of
 * a file listed with one and downloads it from the Xet CAS, which the gateway does not serve; without it,
 * every client asks the gateway's resolve route for the bytes.
 */
function withoutXetHashes(answer: UpstreamAnswer): Uint8Array {
  if (answer.status !== 200) return answer.body
  try {
    const entries = JSON.parse(Buffer.from(answer.body).toString('utf8')) as unknown
    if (!Array.isArray(entries)) return answer.body
    for (const e of entries)
      if (typeof e === 'object' && e !== null) delete (e as { xetHash?: unknown }).xetHash
    return Buffer.from(JSON.stringify(entries))
  } catch {
    return answer.body
  }
}

/** `<{endpoint}/api/...>` → `<{gateway}/api/...>`; other targets are left alone. */
export function rewriteLinks(link: string, endpoint: string, gateway: string): string {
  return link.replace(/<([^>]*)>/g, (whole, target: string) => {
    if (target.startsWith(`${endpoint}/`)) return `<${gateway}${target.slice(endpoint.length)}>`
    try {
      const url = new URL(target)
      if (url.origin === new URL(endpoint).origin) return `<${gateway}${url.pathname}${url.search}>`
    } catch {
      // a relative target stays relative: it resolves against the gateway already
    }
    return whole
  })
}

/** `http://host:port` as the client addressed this gateway (for absolute pagination links). */
export function gatewayOrigin(req: ControlRequest): string {
  const host = req.raw.headers.host
  if (host !== undefined && /^[\w.:[\]-]+$/.test(host)) return `http://${host}`
  const addr = req.raw.socket.localAddress ?? '127.0.0.1'
  return `http://${addr.includes(':') ? `[${addr}]` : addr}:${req.raw.socket.localPort}`
}
