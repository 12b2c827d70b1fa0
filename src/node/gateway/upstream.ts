import type { HubConfig } from '../../protocols/hub/hub-config.ts'
import type { FetchLike } from '../../protocols/hub/hub-request.ts'
import {
  UPSTREAM_BODY_TIMEOUT_MS,
  UPSTREAM_HEADERS_TIMEOUT_MS,
  UPSTREAM_MAX_BODY_BYTES,
  UPSTREAM_RETRY_AFTER_MS,
} from './constants.ts'

export interface UpstreamInit {
  /** The Hub or mirror (HF_ENDPOINT) and HF_HUB_OFFLINE; its token is not used: clients bring theirs. */
  config: HubConfig
  fetch?: FetchLike
  /** Default UPSTREAM_HEADERS_TIMEOUT_MS. */
  headersTimeoutMs?: number
  /** Default UPSTREAM_RETRY_AFTER_MS. */
  retryAfterMs?: number
}

export interface UpstreamRequest {
  method?: string
  /** The client's `Authorization` header, passed on as it is (null: none). */
  authorization: string | null
  headers?: Record<string, string>
  body?: Uint8Array | string
  signal: AbortSignal
}

/** A metadata answer of the upstream, read whole. */
export interface UpstreamAnswer {
  status: number
  headers: Headers
  body: Uint8Array
  url: string
}

/** Raised when the client went away while the upstream was asked. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError'
}

/**
 * The Hub (or mirror) the gateway falls back to and asks for metadata, with the client's credentials.
 * Requests are bounded; a network failure or timeout marks it unreachable for a few seconds, during which
 * the gateway answers from what the node knows without waiting on it again.
 */
export class Upstream {
  readonly config: HubConfig
  private readonly fetch: FetchLike
  private readonly headersTimeoutMs: number
  private readonly retryAfterMs: number
  private downUntil = 0

  constructor(init: UpstreamInit) {
    this.config = init.config
    this.fetch = init.fetch ?? fetch
    this.headersTimeoutMs = init.headersTimeoutMs ?? UPSTREAM_HEADERS_TIMEOUT_MS
    this.retryAfterMs = init.retryAfterMs ?? UPSTREAM_RETRY_AFTER_MS
  }

  get endpoint(): string {
    return this.config.endpoint
  }

  /** Whether to ask it now: not HF_HUB_OFFLINE, and not found unreachable moments ago. */
  usable(): boolean {
    return !this.config.offline && Date.now() >= this.downUntil
  }

  /**
   * Sends one request (redirects not followed) and reads its answer whole. Null when the upstream cannot be
   * used or reached; any HTTP status is an answer.
   */
  async request(path: string, init: UpstreamRequest): Promise<UpstreamAnswer | null> {
    const res = await this.send(path, init)
    if (res === null) return null
    try {
      const body = await readBounded(
        res,
        AbortSignal.any([init.signal, AbortSignal.timeout(UPSTREAM_BODY_TIMEOUT_MS)]),
      )
      return { status: res.status, headers: res.headers, body, url: res.url || this.url(path) }
    } catch {
      if (init.signal.aborted) throw new ClientGoneError('the client went away')
      this.markDown()
      return null
    }
  }

  /** The response with its body unread (the caller must read or cancel it), or null as for request(). */
  private async send(path: string, init: UpstreamRequest): Promise<Response | null> {
    if (!this.usable()) return null
    const headers: Record<string, string> = { 'user-agent': 'hffs-node-gateway/0.1', ...init.headers }
    if (init.authorization !== null) headers.authorization = init.authorization
    // Bounds the wait for the response headers only: a long body is bounded by its reader.
    const late = new AbortController()
    const timer = setTimeout(() => late.abort(new Error('timed out')), this.headersTimeoutMs)
    try {
      const res = await this.fetch(this.url(path), {
        method: init.method ?? 'GET',
        headers,
        body: init.body,
        redirect: 'manual',
        signal: AbortSignal.any([init.signal, late.signal]),
      })
      this.downUntil = 0
      return res
    } catch {
      if (init.signal.aborted) throw new ClientGoneError('the client went away')
      this.markDown()
      return null
    } finally {
      clearTimeout(timer)
    }
  }

  url(path: string): string {
    return path.startsWith('http://') || path.startsWith('https://') ? path : `${this.config.endpoint}${path}`
  }

  private markDown(): void {
    this.downUntil = Date.now() + this.retryAfterMs
  }
}

async function readBounded(res: Response, signal: AbortSignal): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0)
  const parts: Uint8Array[] = []
  let total = 0
  const reader = res.body.getReader()
  const onAbort = (): void => void reader.cancel().catch(() => {})
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    for (;;) {
      const { done, value } = await reader.read()
      signal.throwIfAborted()
      if (done) break
      total += value.byteLength
      if (total > UPSTREAM_MAX_BODY_BYTES) throw new Error(`answer over ${UPSTREAM_MAX_BODY_BYTES} bytes`)
      parts.push(value)
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  return Buffer.concat(parts)
}
