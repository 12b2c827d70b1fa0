import { isEtag, type RepoRef } from '../../store/hf-cache/index.ts'
import { MAX_RELATIVE_REDIRECTS } from './constants.ts'
import { GatewayError, entryNotFound, notKnownOffline } from './hub-answer.ts'
import type { KnownSnapshot, SnapshotKnowledge } from './known-snapshot.ts'
import type { UpstreamVerdict } from './repo-access.ts'
import type { Upstream, UpstreamAnswer } from './upstream.ts'

/** What a client needs to know about one file of repo@revision to download it. */
export interface FileMeta {
  commit: string
  path: string
  /** The blob's name: sha256 for LFS files, the git blob sha1 otherwise. */
  etag: string
  size: number
  lfs: boolean
  xetHash: string | null
  /** Who said so: the upstream (which also checked the client's access), or the node's own knowledge. */
  source: 'upstream' | 'known'
}

export interface ResolveFileMetaParams {
  upstream: Upstream
  knowledge: SnapshotKnowledge
  repo: RepoRef
  revision: string
  path: string
  /** The resolve URL path and query as the client sent it, asked of the upstream as it is. */
  upstreamPath: string
  authorization: string | null
  signal: AbortSignal
  /** Told every answer of the upstream (the access it shows). */
  onUpstreamAnswer?: (verdict: UpstreamVerdict) => void
  /** Throws when what the node knows may not be served to this client without the upstream's check. */
  checkKnown?: (known: KnownSnapshot) => void
}

/**
 * The metadata of one file: a HEAD on the upstream with the client's credentials (following relative
 * redirects only, like huggingface_hub), which is also the access check; its 4xx answers are the client's.
 * When the upstream cannot be reached or fails, what the node, its peers or its cache know.
 */
export async function resolveFileMeta(params: ResolveFileMetaParams): Promise<FileMeta> {
  const answer = await headUpstream(params)
  if (answer !== null) {
    params.onUpstreamAnswer?.({
      status: answer.status,
      errorCode: answer.headers.get('x-error-code'),
      withAuthorization: params.authorization !== null,
      fileRoute: true,
    })
  }
  if (answer !== null && answer.status < 500) {
    if (answer.status >= 400) throw upstreamError(answer)
    const meta = metaFromHeaders(answer, params.path)
    params.knowledge.learnRef(params.repo, params.revision, meta.commit)
    return meta
  }
  const known = await params.knowledge.find(params.repo, params.revision, params.signal)
  if (known === null) {
    if (answer !== null) throw upstreamError(answer)
    throw notKnownOffline(`${params.repo.id}@${params.revision}`)
  }
  params.checkKnown?.(known)
  const file = known.files.find((f) => f.path === params.path)
  if (file === undefined) {
    if (known.complete) throw entryNotFound(known.commit)
    throw notKnownOffline(`${params.repo.id}@${params.revision}/${params.path}`)
  }
  return {
    commit: known.commit,
    path: file.path,
    etag: file.etag,
    size: file.size,
    lfs: file.etag.length === 64,
    xetHash: file.xetHash,
    source: 'known',
  }
}

async function headUpstream(params: ResolveFileMetaParams): Promise<UpstreamAnswer | null> {
  let url = params.upstream.url(params.upstreamPath)
  for (let hop = 0; ; hop++) {
    const answer = await params.upstream.request(url, {
      method: 'HEAD',
      authorization: params.authorization,
      headers: { 'accept-encoding': 'identity' },
      signal: params.signal,
    })
    const location = answer?.headers.get('location') ?? null
    if (answer === null || answer.status < 300 || answer.status >= 400 || location === null) return answer
    if (!isRelative(location) || hop >= MAX_RELATIVE_REDIRECTS) return answer
    url = new URL(location, url).toString()
  }
}

/** A Location without a host (huggingface_hub follows only those; absolute ones go to a CDN). */
function isRelative(location: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('//')
}

function metaFromHeaders(answer: UpstreamAnswer, path: string): FileMeta {
  const h = answer.headers
  const commit = h.get('x-repo-commit')
  const linkedEtag = h.get('x-linked-etag')
  const etag = normalizeEtag(linkedEtag ?? h.get('etag'))
  const redirect = answer.status >= 300
  const sizeText = h.get('x-linked-size') ?? (redirect ? null : h.get('content-length'))
  const size = sizeText === null ? NaN : Number(sizeText)
  if (
    commit === null ||
    !/^[0-9a-f]{40}$/.test(commit) ||
    etag === null ||
    !isEtag(etag) ||
    !Number.isSafeInteger(size) ||
    size < 0
  ) {
    throw new GatewayError(
      502,
      null,
      `the upstream's answer for "${path}" lacks X-Repo-Commit, a hex ETag or the size (HTTP ${answer.status})`,
    )
  }
  const xet = h.get('x-xet-hash')
  return {
    commit,
    path,
    etag,
    size,
    lfs: linkedEtag !== null || etag.length === 64,
    xetHash: xet !== null && /^[0-9a-f]{64}$/.test(xet) ? xet : null,
    source: 'upstream',
  }
}

/** huggingface_hub's `_normalize_etag`: no weak prefix, no quotes. */
function normalizeEtag(etag: string | null): string | null {
  if (etag === null) return null
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '')
}

/** The upstream's refusal as the client's own answer: status, error code and message, commit. */
export function upstreamError(answer: UpstreamAnswer): GatewayError {
  const headers: Record<string, string> = {}
  const commit = answer.headers.get('x-repo-commit')
  if (commit !== null) headers['X-Repo-Commit'] = commit
  const message = answer.headers.get('x-error-message') ?? `the upstream Hub answered HTTP ${answer.status}`
  return new GatewayError(answer.status, answer.headers.get('x-error-code'), message, headers)
}
