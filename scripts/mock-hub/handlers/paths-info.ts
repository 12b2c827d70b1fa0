import type { RepoRequest } from '../context.ts'
import { badRequest, revisionNotFound } from '../errors.ts'
import { entryJson, xetHashDisplay } from '../entries.ts'
import { readBody, sendJson, truthy } from '../http-util.ts'
import { entryAt } from '../snapshot.ts'

/** `{paths, expand}` from a JSON body (@huggingface/hub) or a form (huggingface_hub). */
function parseRequest(contentType: string, body: Buffer): { paths: string[]; expand: boolean } {
  if (contentType.startsWith('application/json')) {
    let json: unknown
    try {
      json = JSON.parse(body.toString('utf8'))
    } catch {
      throw badRequest('Invalid JSON body')
    }
    const o = (json ?? {}) as { paths?: unknown; expand?: unknown }
    const paths = Array.isArray(o.paths) ? o.paths : typeof o.paths === 'string' ? [o.paths] : null
    if (!paths || !paths.every((p) => typeof p === 'string'))
      throw badRequest('"paths" must be a list of strings')
    return { paths: paths as string[], expand: truthy(o.expand) }
  }
  const form = new URLSearchParams(body.toString('utf8'))
  return { paths: form.getAll('paths'), expand: truthy(form.get('expand')) }
}

/** `POST /api/{type}s/{repo}/paths-info/{rev}`: the entries at the given paths; missing ones are left out. */
export async function handlePathsInfo(r: RepoRequest): Promise<void> {
  const { ctx, req, res, route, repo } = r
  const { paths, expand } = parseRequest(req.headers['content-type'] ?? '', await readBody(req, r.signal))
  const snapshot = await ctx.store.resolveRevision(repo, route.revision)
  if (!snapshot) throw revisionNotFound(route.revision)
  const entries = [...new Set(paths.map((p) => p.replace(/^\/+|\/+$/g, '')))].flatMap((p) => {
    const e = entryAt(snapshot, p)
    return e ? [e] : []
  })
  sendJson(
    req,
    res,
    200,
    await Promise.all(
      entries.map((e) => entryJson(ctx.hashes, snapshot, e, { expand, xetHash: xetHashDisplay(r) })),
    ),
  )
}
