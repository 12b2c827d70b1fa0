import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { EXPOSE_HEADERS, MAX_BODY_BYTES } from './constants.ts'
import { HubHttpError } from './errors.ts'

/** Headers the Hub puts on every answer. */
export function setCommonHeaders(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader(
    'X-Request-Id',
    `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
  )
  res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*')
  res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS)
  res.setHeader('Vary', 'Origin')
}

export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const data = Buffer.from(JSON.stringify(body))
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(data.byteLength),
  })
  res.end(req.method === 'HEAD' ? undefined : data)
}

export function sendText(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  const data = Buffer.from(text)
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    ...headers,
    'Content-Length': String(data.byteLength),
  })
  res.end(req.method === 'HEAD' ? undefined : data)
}

/** An error in the Hub's shape: `X-Error-Code`, `X-Error-Message` and `{"error": message}`. */
export function sendHubError(req: IncomingMessage, res: ServerResponse, err: HubHttpError): void {
  const headers: Record<string, string> = { ...err.headers, 'X-Error-Message': err.message }
  if (err.code) headers['X-Error-Code'] = err.code
  sendJson(req, res, err.status, { error: err.message }, headers)
}

/** The request body, refused past `MAX_BODY_BYTES`. */
export async function readBody(req: IncomingMessage, signal: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = []
  let total = 0
  for await (const part of req.iterator({ destroyOnReturn: true })) {
    signal.throwIfAborted()
    total += (part as Buffer).byteLength
    if (total > MAX_BODY_BYTES) throw new HubHttpError(413, undefined, 'Request body too large')
    parts.push(part as Buffer)
  }
  return Buffer.concat(parts)
}

/** `inline; filename*=UTF-8''...; filename="..."`, as the Hub and its CDN send. */
export function contentDisposition(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1)
  const ascii = base.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `inline; filename*=UTF-8''${encodeURIComponent(base)}; filename="${ascii}"`
}

export function contentTypeFor(path: string): string {
  const lower = path.toLowerCase()
  if (lower.endsWith('.json')) return 'application/json; charset=utf-8'
  if (/\.(md|txt|py|yaml|yml|csv|gitattributes)$/.test(lower)) return 'text/plain; charset=utf-8'
  return 'application/octet-stream'
}

/** `a/b c/ü.txt` → `a/b%20c/%C3%BC.txt` (slashes kept), like Python's `quote(filename)`. */
export const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/')

/** `http://host:port` as the client addressed us (for absolute URLs in Location and Link). */
export function baseUrlOf(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host
  return host && /^[\w.:[\]-]+$/.test(host) ? `http://${host}` : fallback
}

/** `true`, `True`, `1` (Python sends bools as `True`). */
export const truthy = (v: unknown): boolean => v === true || (typeof v === 'string' && /^(true|1)$/i.test(v))
