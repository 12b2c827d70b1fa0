import type { RepoRequest } from '../context.ts'
import { badRequest, entryNotFound, revisionNotFound } from '../errors.ts'
import { entryJson, xetHashDisplay } from '../entries.ts'
import { baseUrlOf, sendJson, truthy } from '../http-util.ts'
import { listEntries } from '../snapshot.ts'

const encodeCursor = (offset: number): string =>
  Buffer.from(JSON.stringify({ o: offset })).toString('base64url')

function decodeCursor(cursor: string | null): number {
  if (cursor === null) return 0
  try {
    const { o } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o: unknown }
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return o
  } catch {
    // fall through
  }
  throw badRequest('Invalid cursor')
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
    next.searchParams.set('cursor', encodeCursor(offset + pageSize))
    headers.Link = `<${next.href}>; rel="next"`
  }
  sendJson(req, res, 200, body, headers)
}
