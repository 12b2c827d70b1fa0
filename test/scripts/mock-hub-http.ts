import { request } from 'node:http'

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** False when the connection ended before the body was complete. */
  complete: boolean
}

/** One request with node:http, no redirects followed, reporting a cut-short body instead of failing. */
export function rawRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const parts: Buffer[] = []
      let done = false
      const finish = (): void => {
        if (done) return
        done = true
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts),
          complete: res.complete,
        })
      }
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', finish)
      res.on('error', finish)
      res.on('close', finish)
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')))
    req.end(init.body)
  })
}

/**
 * What huggingface_hub's `get_hf_file_metadata` does: HEAD with `Accept-Encoding: identity`,
 * re-issuing the HEAD for relative redirects only.
 */
export async function pythonStyleHead(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ first: RawResponse; final: RawResponse; finalUrl: string }> {
  const h = { 'Accept-Encoding': 'identity', 'User-Agent': 'huggingface_hub/1.29.0', ...headers }
  const first = await rawRequest(url, { method: 'HEAD', headers: h })
  let final = first
  let finalUrl = url
  for (let hops = 0; hops < 5 && final.status >= 300 && final.status < 400; hops++) {
    const location = String(final.headers.location)
    if (/^[a-z]+:\/\//i.test(location)) break // absolute (CDN): not followed
    finalUrl = new URL(location, finalUrl).href
    final = await rawRequest(finalUrl, { method: 'HEAD', headers: h })
  }
  return { first, final, finalUrl }
}
