import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CONTROL_MAX_BODY_BYTES } from './constants.ts'
import { isAuthorized } from './control-token.ts'
import { errorMessage, type Logger } from './logger.ts'

/** An error a route throws to answer with this status and `{ "error": message }`. */
export class HttpError extends Error {
  override name = 'HttpError'
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

export interface ControlRequest {
  method: string
  /** The path without the query string. */
  path: string
  /** Values of `:name` segments; `*` holds the rest of the path after a trailing `/*`. */
  params: Record<string, string>
  query: URLSearchParams
  /** Reads and parses the JSON body (bounded); `{}` when empty. A 400 when it is not JSON. */
  json(): Promise<unknown>
  /** Aborted when the client goes away or the server stops. */
  signal: AbortSignal
  raw: IncomingMessage
  res: ServerResponse
}

/** A JSON answer; a route that wrote `res` itself returns undefined. */
export interface ControlReply {
  status?: number
  body?: unknown
}

export type ControlHandler = (req: ControlRequest) => Promise<ControlReply | void> | ControlReply | void

export interface RouteOptions {
  /** Whether the bearer token is required; default true. */
  auth?: boolean
}

export interface ControlServerInit {
  token: string
  logger: Logger
  /** Maps a thrown error's name to an HTTP status (e.g. PeerNotFoundError → 404); others are 500. */
  errorStatus?: Record<string, number>
}

interface Route {
  method: string
  segments: string[]
  handler: ControlHandler
  auth: boolean
}

/**
 * The daemon's HTTP API on 127.0.0.1: JSON routes behind a bearer token. Other parts of the daemon (the
 * gateway, the download engine) add theirs with route().
 */
export class ControlServer {
  private readonly init: ControlServerInit
  private readonly routes: Route[] = []
  private readonly server: Server
  private readonly controller = new AbortController()

  constructor(init: ControlServerInit) {
    this.init = init
    this.server = createServer((req, res) => void this.dispatch(req, res))
    this.server.headersTimeout = 10_000
    this.server.requestTimeout = 60_000
  }

  /** Adds a route: `path` is exact, with `:name` segments and an optional trailing `/*`. */
  route(method: string, path: string, handler: ControlHandler, options: RouteOptions = {}): void {
    const segments = path.split('/').filter((s) => s !== '')
    const upper = method.toUpperCase()
    if (this.routes.some((r) => r.method === upper && r.segments.join('/') === segments.join('/')))
      throw new Error(`route ${upper} ${path} is already taken`)
    this.routes.push({ method: upper, segments, handler, auth: options.auth ?? true })
  }

  /**
   * Listens on 127.0.0.1 (the control API's only address; `host` is for the gateway's own listeners, which
   * carry no control route); returns the port (useful with 0). `what` and `flag` name the port and the
   * option to change in errors.
   */
  async listen(port: number, options: { host?: string; what?: string; flag?: string } = {}): Promise<number> {
    const host = options.host ?? '127.0.0.1'
    const what = options.what ?? 'control port'
    const flag = options.flag ?? '--port'
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
        reject(
          err.code === 'EADDRINUSE'
            ? new HttpListenError(`${what} ${port} is in use on ${host}; choose another with ${flag}`)
            : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
              ? new HttpListenError(`cannot listen on ${where}: no such address on this machine (${flag})`)
              : err.code === 'EACCES'
                ? new HttpListenError(`cannot listen on ${where}: permission denied (${flag})`)
                : err,
        )
      }
      this.server.once('error', onError)
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    return this.port
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** `http://address:port` as bound (`http://127.0.0.1:PORT` for the control API). */
  get url(): string {
    const { address, port } = this.server.address() as AddressInfo
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`
  }

  async close(): Promise<void> {
    this.controller.abort()
    if (!this.server.listening) return
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeIdleConnections()
    // Requests still running get a moment to answer (POST /v1/stop answers before shutdown starts).
    const timer = setTimeout(() => this.server.closeAllConnections(), 1000)
    await closed
    clearTimeout(timer)
  }

  private async dispatch(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(raw.url ?? '/', 'http://127.0.0.1')
    const method = (raw.method ?? 'GET').toUpperCase()
    const found = this.match(method, url.pathname)
    if (found === null) return this.send(res, 404, { error: `no route ${method} ${url.pathname}` })
    if ('allowed' in found) {
      res.setHeader('allow', found.allowed.join(', '))
      return this.send(res, 405, { error: `${method} is not allowed on ${url.pathname}` })
    }
    if (found.route.auth && !isAuthorized(raw.headers.authorization, this.init.token)) {
      res.setHeader('www-authenticate', 'Bearer')
      return this.send(res, 401, {
        error: 'unauthorized: send Authorization: Bearer <HFFS_HOME/control.token>',
      })
    }
    const gone = new AbortController()
    res.on('close', () => gone.abort())
    const req: ControlRequest = {
      method,
      path: url.pathname,
      params: found.params,
      query: url.searchParams,
      json: () => readJson(raw),
      signal: AbortSignal.any([gone.signal, this.controller.signal]),
      raw,
      res,
    }
    try {
      const reply = await found.route.handler(req)
      if (reply !== undefined && !res.headersSent) this.send(res, reply.status ?? 200, reply.body ?? {})
    } catch (err) {
      const status =
        err instanceof HttpError ? err.status : (this.init.errorStatus?.[(err as Error).name] ?? 500)
      if (status >= 500) this.init.logger.warn(`${method} ${url.pathname}: ${errorMessage(err)}`)
      if (!res.headersSent) this.send(res, status, { error: errorMessage(err), name: (err as Error).name })
      else res.destroy()
    }
  }

  private match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | { allowed: string[] } | null {
    const parts = path.split('/').filter((s) => s !== '')
    const allowed: string[] = []
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts)
      if (params === null) continue
      if (route.method === method) return { route, params }
      allowed.push(route.method)
    }
    return allowed.length > 0 ? { allowed } : null
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }
}

export class HttpListenError extends Error {
  override name = 'HttpListenError'
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]
    if (p === '*' && i === pattern.length - 1) {
      params['*'] = parts.slice(i).map(decodeSegment).join('/')
      return params
    }
    if (i >= parts.length) return null
    if (p.startsWith(':')) params[p.slice(1)] = decodeSegment(parts[i])
    else if (p !== parts[i]) return null
  }
  return parts.length === pattern.length ? params : null
}

/** A malformed escape is kept as it is rather than failing the request. */
function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > CONTROL_MAX_BODY_BYTES) throw new HttpError(413, `body over ${CONTROL_MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new HttpError(400, 'body is not valid JSON')
  }
}
