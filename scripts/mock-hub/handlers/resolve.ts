import type { RepoRequest } from '../context.ts'
import { entryNotFound, revisionNotFound } from '../errors.ts'
import { lfsPointerText } from '../git-objects.ts'
import { baseUrlOf, contentDisposition, contentTypeFor, encodePath, sendText } from '../http-util.ts'
import { repoKey, type Repo } from '../repo-store.ts'
import { serveContent } from '../serve-content.ts'
import type { SnapshotFile } from '../snapshot.ts'

const urlPrefix = (repo: Repo): string => (repo.ref.type === 'model' ? '' : `${repo.ref.type}s/`)

/**
 * The Hub sends regular files of public namespaced repos through a relative
 * `307 → /api/resolve-cache/...` pinned to the commit; private, gated and org-less repos
 * and empty files are served directly (huggingface_hub#4815).
 */
function usesResolveCache(r: RepoRequest, file: SnapshotFile): boolean {
  const { repo } = r
  return (
    r.ctx.knobs().resolveCacheRedirect &&
    file.size > 0 &&
    !repo.config.private &&
    !repo.config.gated &&
    repo.ref.id.includes('/')
  )
}

/** `HEAD|GET /{prefix}{repo}/{resolve|raw}/{rev}/{path}` and `/api/resolve-cache/{type}s/{repo}/{commit}/{path}`. */
export async function handleResolve(r: RepoRequest): Promise<void> {
  const { ctx, req, res, route, repo } = r
  const snapshot = await ctx.store.resolveRevision(repo, route.revision)
  if (!snapshot) throw revisionNotFound(route.revision)
  const file = snapshot.files.get(route.rest)
  if (!file) throw entryNotFound(snapshot.commit)
  const statKey = `${repoKey(repo.ref)}/${file.path}`
  const base = { 'X-Repo-Commit': snapshot.commit }
  const lfs = file.hashes.lfs

  if (route.kind === 'resolve' && lfs) {
    const location = ctx.cdn.url(baseUrlOf(req, ctx.url()), {
      sha256: lfs.sha256,
      repoKey: repoKey(repo.ref),
      path: file.path,
    })
    return sendText(req, res, 302, `Found. Redirecting to ${location}`, {
      ...base,
      Location: location,
      ETag: `"${lfs.sha256}"`,
      'X-Linked-Etag': `"${lfs.sha256}"`,
      'X-Linked-Size': String(file.size),
    })
  }
  if (route.kind === 'resolve' && usesResolveCache(r, file)) {
    const original = `/${urlPrefix(repo)}${repo.ref.id}/resolve/${route.revision}/${file.path}`
    const location =
      `/api/resolve-cache/${repo.ref.type}s/${repo.ref.id}/${snapshot.commit}/${encodePath(file.path)}` +
      `?${encodeURIComponent(original)}=&etag=${encodeURIComponent(`"${file.hashes.etag}"`)}`
    return sendText(req, res, 307, `Temporary Redirect. Redirecting to ${location}`, {
      ...base,
      Location: location,
      ETag: `"${file.hashes.etag}"`,
    })
  }
  if (route.kind === 'raw' && lfs) {
    const pointer = Buffer.from(lfsPointerText(lfs.sha256, file.size))
    return serveContent({
      ctx,
      req,
      res,
      source: { kind: 'buffer', data: pointer },
      size: pointer.byteLength,
      statKey,
      headers: { ...base, ETag: `"${file.hashes.gitOid}"`, 'Content-Type': 'text/plain; charset=utf-8' },
      signal: r.signal,
    })
  }
  return serveContent({
    ctx,
    req,
    res,
    source: { kind: 'file', absPath: file.absPath },
    size: file.size,
    statKey,
    headers: {
      ...base,
      ETag: `"${file.hashes.etag}"`,
      'Content-Type': contentTypeFor(file.path),
      'Content-Disposition': contentDisposition(file.path),
    },
    signal: r.signal,
  })
}
