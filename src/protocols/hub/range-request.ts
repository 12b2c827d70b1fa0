import { request } from 'undici'
import type { HubConfig } from './hub-config.ts'
import { HubUnreachableError, OfflineError } from './hub-errors.ts'
import { errorFor } from './hub-request.ts'

export interface RangeResponse {
  status: number
  body: AsyncIterable<Uint8Array>
  cancel(): void
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
    return { status: res.statusCode, body, cancel: () => body.destroy() }
  }
  throw new HubUnreachableError(`${what}: too many redirects`)
}
