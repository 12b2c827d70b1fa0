import type { FetchLike } from '../../protocols/hub/hub-request.ts'
import { LISTING_MEMO_BYTES } from './constants.ts'

/** A stored 200 answer of the upstream. */
export interface MemoEntry {
  headers: [string, string][]
  body: Uint8Array
  url: string
}

/** `/api/{type}s/{repo}/tree/{commit}...` and `/revision/{commit}`: answers pinned to a commit never change. */
const PINNED = /^\/api\/(?:models|datasets|spaces)\/.+\/(?:tree|revision)\/[0-9a-f]{40}(?:\/|$)/

/** Whether the answer to a GET of this URL is fixed by the commit in it. */
export function isCommitPinned(url: string): boolean {
  try {
    return PINNED.test(new URL(url).pathname)
  } catch {
    return false
  }
}

/**
 * Commit-pinned listings of the upstream, kept in memory (least recently used dropped past the byte
 * budget), per client credentials. The gateway proxies `tree/{commit}` for a client and then pulls each
 * file with the same listing: one upstream request instead of one per file.
 */
export class ListingMemo {
  private readonly entries = new Map<string, MemoEntry>()
  private bytes = 0
  private readonly maxBytes: number

  constructor(maxBytes = LISTING_MEMO_BYTES) {
    this.maxBytes = maxBytes
  }

  get(authorization: string | null, url: string): MemoEntry | null {
    const key = memoKey(authorization, url)
    const e = this.entries.get(key)
    if (e === undefined) return null
    this.entries.delete(key)
    this.entries.set(key, e)
    return e
  }

  put(authorization: string | null, url: string, entry: MemoEntry): void {
    if (entry.body.byteLength > this.maxBytes / 4) return
    const key = memoKey(authorization, url)
    const old = this.entries.get(key)
    if (old !== undefined) this.bytes -= old.body.byteLength
    this.entries.set(key, entry)
    this.bytes += entry.body.byteLength
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break
      this.entries.delete(k)
      this.bytes -= e.body.byteLength
    }
  }

  /**
   * A fetch for the download engine: a GET of a commit-pinned listing is answered from the memo (and
   * stored when it was not there); everything else goes to `base`.
   */
  fetchWith(base: FetchLike, authorization: string | null): FetchLike {
    return async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
      const method = (init?.method ?? 'GET').toUpperCase()
      if (method !== 'GET' || !isCommitPinned(url)) return base(input, init)
      const hit = this.get(authorization, url)
      if (hit !== null) return memoResponse(hit)
      const res = await base(input, init)
      if (res.status !== 200) return res
      const entry: MemoEntry = {
        headers: [...res.headers],
        body: new Uint8Array(await res.arrayBuffer()),
        url: res.url || url,
      }
      this.put(authorization, url, entry)
      return memoResponse(entry)
    }
  }
}

/** A Response from a stored answer, with the URL it came from (pagination links resolve against it). */
export function memoResponse(entry: MemoEntry): Response {
  const res = new Response(entry.body.slice(), { status: 200, headers: entry.headers })
  Object.defineProperty(res, 'url', { value: entry.url })
  return res
}

function memoKey(authorization: string | null, url: string): string {
  return `${authorization ?? ''}\n${url}`
}
