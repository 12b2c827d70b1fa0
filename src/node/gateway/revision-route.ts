import { createHash } from 'node:crypto'
import type { RepoRef } from '../../store/hf-cache/index.ts'
import type { ControlRequest } from '../control-server.ts'
import { upstreamError } from './file-meta.ts'
import type { GatewayParts } from './gateway-parts.ts'
import { notKnownOffline, sendJson } from './hub-answer.ts'
import { checkOfflineAccess } from './offline-access.ts'
import type { KnownSnapshot } from './known-snapshot.ts'
import { isCommitPinned, memoResponse } from './listing-memo.ts'
import { relayAnswer } from './relay.ts'
import type { RepoPath } from './repo-path.ts'
import { fileEntry } from './tree-entries.ts'
import type { UpstreamAnswer } from './upstream.ts'

/**
 * `GET /api/{type}s/{repo}[/revision/{rev}]`: the upstream's repo info, with the client's credentials;
 * when it cannot answer, one made from what the node knows (`sha`, `siblings`, and neutral values for the
 * rest), else a 504.
 */
export async function handleRevision(gw: GatewayParts, req: ControlRequest, at: RepoPath): Promise<void> {
  const answer = await askUpstream(gw, req, at.repo)
  if (answer !== null && answer.status < 500) {
    if (answer.status === 200) learnFromInfo(gw, at, answer)
    return relayAnswer(req, answer, gw.upstream.endpoint)
  }
  const known = await gw.knowledge.find(at.repo, at.revision, req.signal)
  if (known === null) {
    if (answer !== null) throw upstreamError(answer)
    throw notKnownOffline(`${at.repo.id}@${at.revision}`)
  }
  checkOfflineAccess(gw, req, at.repo, known)
  sendJson(req, 200, repoInfo(at.repo, known, req.query))
}

/** The commit a branch or tag points at, and the repo's access (`private`, `gated`) when the answer has them. */
function learnFromInfo(gw: GatewayParts, at: RepoPath, answer: UpstreamAnswer): void {
  try {
    const info = JSON.parse(Buffer.from(answer.body).toString('utf8')) as { sha?: unknown }
    if (typeof info.sha === 'string') gw.knowledge.learnRef(at.repo, at.revision, info.sha)
    gw.access.learnFromInfo(at.repo, info)
  } catch {
    // not JSON: nothing to learn
  }
}

/**
 * A metadata GET on the upstream, answered from the memo when it is pinned to a commit; what the answer
 * shows of the repo's access is remembered.
 */
export async function askUpstream(
  gw: GatewayParts,
  req: ControlRequest,
  repo: RepoRef,
): Promise<UpstreamAnswer | null> {
  const url = gw.upstream.url(req.raw.url ?? req.path)
  const authorization = req.raw.headers.authorization ?? null
  const pinned = isCommitPinned(url)
  const hit = pinned ? gw.memo.get(authorization, url) : null
  if (hit !== null) {
    const res = memoResponse(hit)
    return { status: 200, headers: res.headers, body: hit.body, url: hit.url }
  }
  const answer = await gw.upstream.request(url, {
    authorization,
    headers: { accept: 'application/json' },
    signal: req.signal,
  })
  if (answer !== null) {
    gw.access.learnFromAnswer(repo, {
      status: answer.status,
      errorCode: answer.headers.get('x-error-code'),
      withAuthorization: authorization !== null,
      fileRoute: false,
    })
  }
  if (answer !== null && answer.status === 200 && pinned) {
    gw.memo.put(authorization, url, { headers: [...answer.headers], body: answer.body, url: answer.url })
  }
  return answer
}

/** The fields both clients read (`_id`, `id`, `sha`, `siblings`, ...); `expand=` keeps `_id`, `id` and those named. */
export function repoInfo(
  repo: RepoRef,
  known: KnownSnapshot,
  query: URLSearchParams,
): Record<string, unknown> {
  const blobs = /^(1|true)$/i.test(query.get('blobs') ?? '')
  const siblings = [...known.files]
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
    .map((f) => {
      if (!blobs) return { rfilename: f.path }
      const e = fileEntry(f)
      const s: Record<string, unknown> = { rfilename: f.path, blobId: e.oid, size: f.size }
      if (e.lfs !== undefined) s.lfs = { sha256: e.lfs.oid, size: e.lfs.size, pointerSize: e.lfs.pointerSize }
      return s
    })
  const date = new Date(0).toISOString()
  const full: Record<string, unknown> = {
    _id: createHash('sha1').update(`${repo.type}/${repo.id}`).digest('hex').slice(0, 24),
    id: repo.id,
    ...(repo.type === 'model' ? { modelId: repo.id } : {}),
    ...(repo.id.includes('/') ? { author: repo.id.split('/')[0] } : {}),
    sha: known.commit,
    lastModified: date,
    private: false,
    gated: false,
    disabled: false,
    downloads: 0,
    likes: 0,
    tags: [],
    siblings,
  }
  const expand = query.getAll('expand')
  if (expand.length === 0) return full
  return Object.fromEntries(['_id', 'id', ...expand].filter((k) => k in full).map((k) => [k, full[k]]))
}
