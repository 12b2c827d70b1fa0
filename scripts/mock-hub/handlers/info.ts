import { createHash } from 'node:crypto'
import type { RepoRequest } from '../context.ts'
import { revisionNotFound } from '../errors.ts'
import { sendJson, truthy } from '../http-util.ts'
import { repoKey } from '../repo-store.ts'
import type { Snapshot } from '../snapshot.ts'

interface Sibling {
  rfilename: string
  blobId?: string
  size?: number
  lfs?: { sha256: string; size: number; pointerSize: number }
}

function siblingsOf(snapshot: Snapshot, blobs: boolean): Sibling[] {
  return [...snapshot.files.values()]
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
    .map((f) => {
      if (!blobs) return { rfilename: f.path }
      const s: Sibling = { rfilename: f.path, blobId: f.hashes.gitOid, size: f.size }
      if (f.hashes.lfs)
        s.lfs = { sha256: f.hashes.lfs.sha256, size: f.size, pointerSize: f.hashes.lfs.pointerSize }
      return s
    })
}

/**
 * `GET /api/{type}s/{repo}[/revision/{rev}]`: the repo info. With `expand=...` the Hub
 * answers `_id`, `id` and the expanded fields only; unknown fields are left out here
 * (the Hub refuses them with a 400).
 */
export async function handleInfo(r: RepoRequest): Promise<void> {
  const { ctx, req, res, route, repo, url } = r
  const snapshot = await ctx.store.resolveRevision(repo, route.revision)
  if (!snapshot) throw revisionNotFound(route.revision)
  const id = repo.ref.id
  const date = snapshot.lastModified.toISOString()
  const full: Record<string, unknown> = {
    _id: createHash('sha1').update(repoKey(repo.ref)).digest('hex').slice(0, 24),
    id,
    ...(repo.ref.type === 'model' ? { modelId: id } : {}),
    author: id.includes('/') ? id.split('/')[0] : undefined,
    sha: snapshot.commit,
    lastModified: date,
    createdAt: date,
    private: repo.config.private,
    gated: repo.config.gated,
    disabled: false,
    downloads: 0,
    likes: 0,
    tags: [],
    ...(repo.ref.type === 'space' ? { sdk: 'static' } : {}),
    ...repo.config.info,
    siblings: siblingsOf(snapshot, truthy(url.searchParams.get('blobs'))),
    usedStorage: [...snapshot.files.values()].reduce((n, f) => n + f.size, 0),
  }
  const expand = url.searchParams.getAll('expand')
  const body =
    expand.length === 0
      ? full
      : Object.fromEntries(
          ['_id', 'id', ...expand].filter((k) => full[k] !== undefined).map((k) => [k, full[k]]),
        )
  sendJson(req, res, 200, body)
}
