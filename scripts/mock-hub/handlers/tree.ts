import type { RepoRequest } from '../context.ts'
import { decodeTreeCursor, encodeTreeCursor } from '../../../src/node/gateway/tree-cursor.ts'
import { badRequest, entryNotFound, revisionNotFound } from '../errors.ts'
import { entryJson, xetHashDisplay } from '../entries.ts'
import { baseUrlOf, sendJson, truthy } from '../http-util.ts'
import { listEntries } from '../snapshot.ts'

function decodeCursor(cursor: string | null): number {
  const offset = decodeTreeCursor(cursor)
  if (offset === null) throw badRequest('Invalid cursor')
  return offset
}

/**
 * `GET /api/{type}s/{repo}/tree/{rev}[/{path}]?recursive=&expand=&cursor=`: folder entries,
 * directories included, paged with `Link: <next>; rel="next"` (an absolute URL, which
 * @huggingface/hub requires).
 */
export async function handleTree(r: RepoRequest): Promise<void> {
  const { ctx, req, res, route, repo, url } = r
  const snapshot = await ctx.store.resolveRevision(repo, route.revision)
  if (!snapshot) throw revisionNotFound(route.revision)
  const dir = route.rest.replace(/\/+$/, '')
  if (dir !== '' && !snapshot.dirs.has(dir)) throw entryNotFound(snapshot.commit)
  const recursive = truthy(url.searchParams.get('recursive'))
  const expand = truthy(url.searchParams.get('expand'))
  const knobs = ctx.knobs()
  const pageSize = expand ? knobs.treeExpandPageSize : knobs.treePageSize
  const offset = decodeCursor(url.searchParams.get('cursor'))

  const all = listEntries(snapshot, dir, recursive)
  const page = all.slice(offset, offset + pageSize)
  const body = await Promise.all(
    page.map((e) => entryJson(ctx.hashes, snapshot, e, { expand, xetHash: xetHashDisplay(r) })),
  )
  const headers: Record<string, string> = {}
  if (offset + pageSize < all.length) {
    const next = new URL(url.pathname + url.search, baseUrlOf(req, ctx.url()))
    next.searchParams.set('cursor', encodeTreeCursor(offset + pageSize))
    headers.Link = `<${next.href}>; rel="next"`
  }
  sendJson(req, res, 200, body, headers)
}
