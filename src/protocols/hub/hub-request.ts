import { setTimeout as sleep } from 'node:timers/promises'
import type { HubConfig } from './hub-config.ts'
import {
  EntryNotFoundError,
  GatedRepoError,
  HubHttpError,
  HubUnreachableError,
  OfflineError,
  RepoNotFoundError,
  RevisionNotFoundError,
} from './hub-errors.ts'

export type FetchLike = typeof fetch

export interface HubRequestParams {
  config: HubConfig
  /** An absolute URL, or a path below the endpoint. */
  url: string
  method?: string
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
  fetch?: FetchLike
  /** Attempts on network errors and 5xx/408/429 before giving up; default 5. */
  attempts?: number
  /** Milliseconds before an attempt's response headers must have arrived; default 30 s. */
  timeoutMs?: number
  /** What the request is about, for error messages, e.g. "org/model@main". */
  what: string
  redirect?: 'follow' | 'manual' | 'error'
}

/**
 * One request to the Hub with its token, a timeout per attempt, retries with exponential backoff, and the
 * Hub's error codes mapped to named errors. Returns the response of a successful (or 3xx, when
 * `redirect: 'manual'`) status.
 */
export async function hubRequest(params: HubRequestParams): Promise<Response> {
  const { config, signal } = params
  if (config.offline)
    throw new OfflineError(`${params.what}: HF_HUB_OFFLINE is set and the cache does not have it`)
  const url = params.url.startsWith('http') ? params.url : `${config.endpoint}${params.url}`
  const headers: Record<string, string> = { 'user-agent': 'hffs-node/0.1', ...params.headers }
  if (config.token !== null && sameOrigin(url, config.endpoint))
    headers.authorization = `Bearer ${config.token}`
  const attempts = params.attempts ?? 5
  let lastError: Error = new HubUnreachableError(`${params.what}: no attempt made`)
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(Math.min(250 * 2 ** (attempt - 1), 4000), undefined, { signal })
    signal?.throwIfAborted()
    const timeout = AbortSignal.timeout(params.timeoutMs ?? 30_000)
    let res: Response
    try {
      res = await (params.fetch ?? fetch)(url, {
        method: params.method ?? 'GET',
        headers,
        body: params.body,
        redirect: params.redirect ?? 'follow',
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      })
    } catch (err) {
      signal?.throwIfAborted()
      lastError = new HubUnreachableError(
        `${params.what}: cannot reach ${new URL(url).host} (${describe(err)})`,
      )
      continue
    }
    if (res.ok || (res.status >= 300 && res.status < 400)) return res
    await res.body?.cancel()
    const error = errorFor(res, params.what)
    if (!(error instanceof HubHttpError) || !error.retryable) throw error
    lastError = error
  }
  throw lastError
}

/** The named error for a failed Hub response, from its status and `X-Error-Code`. */
export function errorFor(res: Response, what: string): Error {
  const code = res.headers.get('x-error-code')
  const message = res.headers.get('x-error-message')
  const detail = message !== null ? `: ${message}` : ''
  if (code === 'RepoNotFound')
    return new RepoNotFoundError(`${what}: repository not found (or private)${detail}`)
  if (code === 'RevisionNotFound') return new RevisionNotFoundError(`${what}: revision not found${detail}`)
  if (code === 'EntryNotFound') return new EntryNotFoundError(`${what}: file not found in this revision`)
  if (code === 'GatedRepo' || res.status === 401 || res.status === 403) {
    return new GatedRepoError(
      `${what}: access denied (HTTP ${res.status}); set HF_TOKEN to a token with access`,
    )
  }
  if (res.status === 404) return new RepoNotFoundError(`${what}: not found (HTTP 404)${detail}`)
  return new HubHttpError(`${what}: the Hub answered HTTP ${res.status}${detail}`, res.status)
}

function sameOrigin(url: string, endpoint: string): boolean {
  try {
    return new URL(url).origin === new URL(endpoint).origin
  } catch {
    return false
  }
}

function describe(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string; name?: string }
  if (e.name === 'TimeoutError') return 'timed out'
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)
}
