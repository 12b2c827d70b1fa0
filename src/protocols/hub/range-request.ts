import type { Readable } from 'node:stream'
import { createRequire } from 'node:module'
import type { HubConfig } from './hub-config.ts'
import { HubUnreachableError, OfflineError } from './hub-errors.ts'
import { errorFor } from './hub-request.ts'

export interface RangeResponse {
  status: number
  /**
   * The body's pieces as they arrive, handed to `onPiece` one by one (no joining, unlike a stream's async
   * iterator, which concatenates what has piled up while the consumer was busy). While the promise
   * `onPiece` returns is pending, the body is paused. Resolves at the end of the body; `false` from
   * `onPiece` stops reading and discards the rest.
   */
  forEachPiece(onPiece: (piece: Buffer) => Promise<boolean> | boolean): Promise<void>
  cancel(): void
}

/** The parts of undici's request API used here (undici's own types describe the package's index). */
interface UndiciRequestOptions {
  origin: string
  path: string
  method: 'GET'
  headers: Record<string, string>
  signal?: AbortSignal
  headersTimeout: number
  bodyTimeout: number
}
interface UndiciResponse {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  body: Readable
}
type RangeClient = (
  url: string,
  opts: Omit<UndiciRequestOptions, 'origin' | 'path'>,
) => Promise<UndiciResponse>

let client: Promise<RangeClient> | undefined

/**
 * undici's connection pool and request API, loaded on first use; `pullSnapshot` asks for it early, so that
 * it loads while the revision is being resolved. Only those two modules: the package's index also loads
 * fetch, WebSocket, EventSource, the mocks and the caches, which cost ~100 ms more of start-up CPU
 * (~150 against ~50 ms), a few percent of `model add` for a 1 GiB model.
 */
export function loadRangeClient(): Promise<RangeClient> {
  client ??= Promise.resolve().then(() => {
    const require = createRequire(import.meta.url)
    const Agent = require('undici/lib/dispatcher/agent.js') as new () => object
    const request = require('undici/lib/api/api-request.js') as (
      this: object,
      opts: UndiciRequestOptions,
    ) => Promise<UndiciResponse>
    const agent = new Agent()
    return (url, opts) => {
      const u = new URL(url)
      return request.call(agent, { ...opts, origin: u.origin, path: `${u.pathname}${u.search}` })
    }
  })
  return client
}

/**
 * One GET with a Range header over undici's request API, which hands out Node buffers with far less
 * overhead per piece than fetch's web streams (this is the hot path of every Hub download). Follows
 * redirects; maps the Hub's error answers to the same named errors as hubRequest.
 */
export async function rangeRequest(
  config: HubConfig,
  url: string,
  range: string,
  what: string,
  signal?: AbortSignal,
): Promise<RangeResponse> {
  if (config.offline) throw new OfflineError(`${what}: HF_HUB_OFFLINE is set`)
  let target = url
  for (let hop = 0; hop < 5; hop++) {
    const headers: Record<string, string> = {
      'user-agent': 'hffs-node/0.1',
      range,
      'accept-encoding': 'identity',
    }
    if (config.token !== null && new URL(target).origin === new URL(config.endpoint).origin) {
      headers.authorization = `Bearer ${config.token}`
    }
    let res
    try {
      const request = await loadRangeClient()
      res = await request(target, {
        method: 'GET',
        headers,
        signal,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      })
    } catch (err) {
      signal?.throwIfAborted()
      const e = err as { code?: string; message?: string }
      throw new HubUnreachableError(`${what}: cannot reach ${new URL(target).host} (${e.code ?? e.message})`)
    }
    const location = res.headers.location
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
      res.body.resume()
      target = new URL(location, target).toString()
      continue
    }
    if (res.statusCode >= 400) {
      res.body.resume()
      const h = new Headers()
      for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v)
      throw errorFor(new Response(null, { status: res.statusCode, headers: h }), what)
    }
    const body = res.body
    return {
      status: res.statusCode,
      forEachPiece: (onPiece) => forEachPiece(body, onPiece),
      cancel: () => discard(body),
    }
  }
  throw new HubUnreachableError(`${what}: too many redirects`)
}

/** Drops a body: undici's emits an AbortError when destroyed before its end, which nobody waits for. */
function discard(body: Readable): void {
  body.on('error', () => {})
  body.destroy()
}

function forEachPiece(body: Readable, onPiece: (piece: Buffer) => Promise<boolean> | boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false
    const finish = (err?: unknown): void => {
      if (settled) return
      settled = true
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', finish)
      body.off('close', onClose)
      if (err === undefined) resolve()
      else reject(err instanceof Error ? err : new Error(String(err)))
    }
    /** Ends early: by the consumer's choice (no error) or its failure. */
    const stop = (err?: unknown): void => {
      finish(err)
      discard(body)
    }
    const onData = (piece: Buffer): void => {
      if (settled) return
      let more: Promise<boolean> | boolean
      try {
        more = onPiece(piece)
      } catch (err) {
        return stop(err)
      }
      if (more === true) return
      if (more === false) return stop()
      body.pause()
      more.then((go) => {
        if (settled) return
        if (go) body.resume()
        else stop()
      }, stop)
    }
    const onEnd = (): void => finish()
    const onClose = (): void => finish(new Error('the connection closed early'))
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', finish)
    body.once('close', onClose)
  })
}
