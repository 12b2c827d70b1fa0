import type { RepoRef, RepoType } from './repo-store.ts'

/** A request on a repo. `rest` is the decoded path after the revision ('' when none). */
export interface RepoRoute {
  kind: 'resolve' | 'raw' | 'resolve-cache' | 'info' | 'tree' | 'paths-info'
  repo: RepoRef
  revision: string
  rest: string
}

export type Route =
  | { kind: 'repo'; candidates: RepoRoute[] }
  | { kind: 'cdn'; id: string }
  | { kind: 'mock-stats' }
  | { kind: 'mock-reset' }
  | { kind: 'mock-rescan' }
  | { kind: 'mock-options' }
  | { kind: 'not-found' }

const TYPE_BY_PLURAL = new Map<string, RepoType>([
  ['models', 'model'],
  ['datasets', 'dataset'],
  ['spaces', 'space'],
])

const API_KEYWORDS = new Map<string, RepoRoute['kind']>([
  ['revision', 'info'],
  ['tree', 'tree'],
  ['paths-info', 'paths-info'],
])
const FILE_KEYWORDS = new Map<string, RepoRoute['kind']>([
  ['resolve', 'resolve'],
  ['raw', 'raw'],
])

export class BadPathError extends Error {
  override name = 'BadPathError'
}

function decodeSegments(pathname: string): string[] {
  try {
    return pathname.split('/').slice(1).map(decodeURIComponent)
  } catch {
    throw new BadPathError(`malformed path ${pathname}`)
  }
}

/** A revision from its segments: one (maybe `refs%2Fpr%2F1`), or the unencoded `refs/pr/N`. */
function takeRevision(segs: string[]): { revision: string; rest: string[] } | null {
  if (segs.length === 0 || segs[0] === '') return null
  if (segs[0] === 'refs' && (segs[1] === 'pr' || segs[1] === 'convert') && segs.length >= 3) {
    return { revision: segs.slice(0, 3).join('/'), rest: segs.slice(3) }
  }
  return { revision: segs[0], rest: segs.slice(1) }
}

/**
 * The ways `segs` can be read as `{repo id of 1 or 2 segments}/{keyword}/{revision}/...`,
 * preferring `org/name`; the caller keeps the first whose repo exists.
 */
function repoCandidates(
  type: RepoType,
  segs: string[],
  keywords: Map<string, RepoRoute['kind']>,
  needsRevision: boolean,
): RepoRoute[] {
  const out: RepoRoute[] = []
  for (const idLength of [2, 1]) {
    const id = segs.slice(0, idLength)
    if (id.length !== idLength || id.some((s) => s === '' || s.includes('/'))) continue
    const keyword = segs[idLength]
    if (keyword === undefined && !needsRevision && idLength === segs.length) {
      out.push({ kind: 'info', repo: { type, id: id.join('/') }, revision: 'HEAD', rest: '' })
      continue
    }
    const kind = keyword === undefined ? undefined : keywords.get(keyword)
    if (!kind) continue
    const rev = takeRevision(segs.slice(idLength + 1))
    if (!rev) continue
    if (kind === 'info' && rev.rest.length > 0) continue
    out.push({ kind, repo: { type, id: id.join('/') }, revision: rev.revision, rest: rev.rest.join('/') })
  }
  return out
}

export function parseRoute(pathname: string): Route {
  const segs = decodeSegments(pathname)
  if (segs[0] === '_mock' && segs.length === 2) {
    if (segs[1] === 'stats') return { kind: 'mock-stats' }
    if (segs[1] === 'reset') return { kind: 'mock-reset' }
    if (segs[1] === 'rescan') return { kind: 'mock-rescan' }
    if (segs[1] === 'options') return { kind: 'mock-options' }
  }
  if (segs[0] === '_cdn' && segs.length === 2) return { kind: 'cdn', id: segs[1] }
  if (segs[0] === 'api') {
    const cacheType = segs[1] === 'resolve-cache' ? TYPE_BY_PLURAL.get(segs[2]) : undefined
    if (cacheType) {
      // `/api/resolve-cache/{type}s/{repo}/{commit}/{path}` has no keyword: try both id lengths
      const candidates: RepoRoute[] = []
      for (const idLength of [2, 1]) {
        const id = segs.slice(3, 3 + idLength)
        const rest = segs.slice(3 + idLength)
        if (id.some((s) => s === '' || s.includes('/'))) continue
        if (rest.length >= 2 && /^[0-9a-f]{40}$/.test(rest[0])) {
          const path = rest.slice(1).join('/')
          candidates.push({
            kind: 'resolve-cache',
            repo: { type: cacheType, id: id.join('/') },
            revision: rest[0],
            rest: path,
          })
        }
      }
      return candidates.length ? { kind: 'repo', candidates } : { kind: 'not-found' }
    }
    const type = TYPE_BY_PLURAL.get(segs[1])
    if (!type) return { kind: 'not-found' }
    const candidates = repoCandidates(type, segs.slice(2), API_KEYWORDS, false)
    return candidates.length ? { kind: 'repo', candidates } : { kind: 'not-found' }
  }
  const type: RepoType = segs[0] === 'datasets' ? 'dataset' : segs[0] === 'spaces' ? 'space' : 'model'
  const candidates = repoCandidates(type, type === 'model' ? segs : segs.slice(1), FILE_KEYWORDS, true)
  return candidates.length ? { kind: 'repo', candidates } : { kind: 'not-found' }
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/')

/** The relative URL of `route` with the repo id replaced by `id` (for rename redirects). */
export function routeUrl(route: RepoRoute, id: string): string {
  const { type } = route.repo
  const rev = encodeURIComponent(route.revision)
  const rest = route.rest === '' ? '' : `/${encodePath(route.rest)}`
  switch (route.kind) {
    case 'resolve':
    case 'raw':
      return `/${type === 'model' ? '' : `${type}s/`}${id}/${route.kind}/${rev}${rest}`
    case 'resolve-cache':
      return `/api/resolve-cache/${type}s/${id}/${rev}${rest}`
    case 'info':
      return route.revision === 'HEAD' ? `/api/${type}s/${id}` : `/api/${type}s/${id}/revision/${rev}`
    case 'tree':
      return `/api/${type}s/${id}/tree/${rev}${rest}`
    case 'paths-info':
      return `/api/${type}s/${id}/paths-info/${rev}`
  }
}
