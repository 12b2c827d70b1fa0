import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { CDN_URL_TTL_SECONDS } from './constants.ts'
import { contentDisposition } from './http-util.ts'

export interface CdnObject {
  sha256: string
  /** `"<type>/<repo>"`. */
  repoKey: string
  /** The file's path in the repo (for stats). */
  path: string
}

/**
 * Presigned URLs for `/_cdn/{sha256}`, like the Hub's CDN links: anyone holding one may
 * fetch the object until it expires; no Authorization needed.
 */
export class CdnSigner {
  private readonly secret = randomBytes(32)

  private sign(o: CdnObject, expires: string): string {
    return createHmac('sha256', this.secret)
      .update(`${o.sha256}\n${o.repoKey}\n${o.path}\n${expires}`)
      .digest('hex')
  }

  url(baseUrl: string, o: CdnObject, now = Date.now()): string {
    const expires = String(Math.floor(now / 1000) + CDN_URL_TTL_SECONDS)
    const q = new URLSearchParams({
      'response-content-disposition': contentDisposition(o.path),
      repo: o.repoKey,
      path: o.path,
      Expires: expires,
      Signature: this.sign(o, expires),
    })
    return `${baseUrl}/_cdn/${o.sha256}?${q}`
  }

  /** The object a URL grants, or why not. */
  verify(sha256: string, q: URLSearchParams, now = Date.now()): CdnObject | 'expired' | 'invalid' {
    const o = { sha256, repoKey: q.get('repo') ?? '', path: q.get('path') ?? '' }
    const expires = q.get('Expires') ?? ''
    const given = Buffer.from(q.get('Signature') ?? '', 'hex')
    const want = Buffer.from(this.sign(o, expires), 'hex')
    if (given.byteLength !== want.byteLength || !timingSafeEqual(given, want)) return 'invalid'
    if (Number(expires) * 1000 < now) return 'expired'
    return o
  }
}
