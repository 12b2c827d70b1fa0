import type { IncomingMessage, ServerResponse } from 'node:http'
import { STATUS_CODES } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { checkAccess, identifyCaller } from './auth.ts'
import type { HubContext, RepoRequest } from './context.ts'
import { HubHttpError, repoNotFound } from './errors.ts'
import { handleCdn } from './handlers/cdn.ts'
import { handleControl } from './handlers/control.ts'
import { handleInfo } from './handlers/info.ts'
import { handlePathsInfo } from './handlers/paths-info.ts'
import { handleResolve } from './handlers/resolve.ts'
import { handleTree } from './handlers/tree.ts'
import { sendHubError, sendText, setCommonHeaders } from './http-util.ts'
import { BadPathError, parseRoute, routeUrl, type RepoRoute, type Route } from './routes.ts'

const FILE_ROUTES = new Set(['resolve', 'raw', 'resolve-cache', 'cdn'])
const METHODS: Record<string, string[]> = {
  resolve: ['GET', 'HEAD'],
  raw: ['GET', 'HEAD'],
  'resolve-cache': ['GET', 'HEAD'],
  cdn: ['GET', 'HEAD'],
  info: ['GET', 'HEAD'],
  tree: ['GET', 'HEAD'],
  'paths-info': ['POST'],
  'mock-stats': ['GET'],
  'mock-reset': ['POST'],
  'mock-rescan': ['POST'],
  'mock-options': ['GET', 'POST'],
}

const routeName = (route: Route): string => (route.kind === 'repo' ? route.candidates[0].kind : route.kind)

/** The first reading of the path whose repo exists; else a rename redirect or RepoNotFound. */
async function openRepo(
  ctx: HubContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  candidates: RepoRoute[],
  signal: AbortSignal,
): Promise<RepoRequest | null> {
  const caller = identifyCaller(req, ctx.knobs().tokens)
  for (const route of candidates) {
    const repo = await ctx.store.findRepo(route.repo)
    if (!repo) continue
    checkAccess(repo, caller, FILE_ROUTES.has(route.kind))
    return { ctx, req, res, url, route, repo, caller, signal }
  }
  for (const route of candidates) {
    const target = await ctx.store.findRenamed(route.repo)
    if (target) {
      const location = routeUrl(route, target.id) + url.search
      sendText(req, res, 307, `Temporary Redirect. Redirecting to ${location}`, { Location: location })
      return null
    }
  }
  throw repoNotFound(caller.kind === 'user')
}

async function route(
  ctx: HubContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  signal: AbortSignal,
): Promise<void> {
  const parsed = parseRoute(url.pathname)
  const name = routeName(parsed)
  if (parsed.kind === 'not-found') throw new HubHttpError(404, undefined, 'Not Found')
  if (!METHODS[name].includes(req.method ?? '')) {
    throw new HubHttpError(405, undefined, 'Method Not Allowed', { Allow: METHODS[name].join(', ') })
  }
  if (
    parsed.kind === 'mock-stats' ||
    parsed.kind === 'mock-reset' ||
    parsed.kind === 'mock-rescan' ||
    parsed.kind === 'mock-options'
  ) {
    return handleControl(ctx, parsed.kind, req, res, signal)
  }

  ctx.stats.request(name)
  const { latencyMs } = ctx.knobs()
  if (latencyMs > 0) await sleep(latencyMs, undefined, { signal })
  if (FILE_ROUTES.has(name)) {
    const status = ctx.faults.takeStatus()
    if (status !== undefined) return sendText(req, res, status, STATUS_CODES[status] ?? 'Error')
  }
  if (parsed.kind === 'cdn') return handleCdn(ctx, req, res, parsed.id, url.searchParams, signal)
  const r = await openRepo(ctx, req, res, url, parsed.candidates, signal)
  if (!r) return
  switch (r.route.kind) {
    case 'resolve':
    case 'raw':
    case 'resolve-cache':
      return handleResolve(r)
    case 'info':
      return handleInfo(r)
    case 'tree':
      return handleTree(r)
    case 'paths-info':
      return handlePathsInfo(r)
  }
}

/** Answers one request; never throws. */
export async function dispatch(
  ctx: HubContext,
  req: IncomingMessage,
  res: ServerResponse,
  hubSignal: AbortSignal,
  log: (msg: string) => void,
): Promise<void> {
  const gone = new AbortController()
  res.on('close', () => gone.abort(new Error('connection closed')))
  const signal = AbortSignal.any([hubSignal, gone.signal])
  setCommonHeaders(req, res)
  try {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, HEAD, POST',
        'Access-Control-Allow-Headers': '*',
      })
      res.end()
      return
    }
    await route(ctx, req, res, new URL(req.url ?? '/', 'http://mock-hub'), signal)
  } catch (err) {
    if (signal.aborted) {
      res.destroy()
      return
    }
    const hubError =
      err instanceof HubHttpError
        ? err
        : err instanceof BadPathError
          ? new HubHttpError(400, undefined, err.message)
          : undefined
    if (!hubError) log(`mock-hub: ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`)
    if (res.headersSent) res.destroy()
    else sendHubError(req, res, hubError ?? new HubHttpError(500, undefined, 'Internal Error'))
  } finally {
    // recorded before the client can have the whole answer, so stats read after it are exact
    if (!req.url?.startsWith('/_mock/')) ctx.stats.response(req.method ?? '?', res.statusCode)
  }
}
