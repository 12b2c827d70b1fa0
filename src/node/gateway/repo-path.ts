import { validateRepo, type RepoRef, type RepoType } from '../../store/hf-cache/index.ts'
import { GatewayError } from './hub-answer.ts'

/** A request on a repo: `/{prefix}{repo}/{keyword}/{revision}/{rest}`, decoded. */
export interface RepoPath {
  repo: RepoRef
  revision: string
  /** What follows the revision ('' when nothing does): a file path for resolve, a folder for tree. */
  rest: string
}

const TYPE_BY_PLURAL: Record<string, RepoType> = { models: 'model', datasets: 'dataset', spaces: 'space' }

/** `models` → `model`; anything else is not a repo type. */
export function repoTypeOf(plural: string): RepoType {
  const type = TYPE_BY_PLURAL[plural]
  if (type === undefined) throw new GatewayError(404, null, `no repo type "${plural}"`)
  return type
}

export interface ParseRepoPathParams {
  /** The raw (still percent-encoded) path of the request. */
  path: string
  type: RepoType
  /** Segments before the repo id: 0 for `/org/name/resolve`, 1 for `/datasets/...`, 2 for `/api/models/...`. */
  skip: number
  /** Segments of the repo id: 1 (`name`) or 2 (`org/name`). */
  idLength: 1 | 2
  /** Whether a revision must follow the keyword (resolve); the repo info route has none. */
  needsRevision: boolean
}

/**
 * Splits a request path the way the Hub reads it. The revision is one segment, percent-encoded when it
 * holds slashes (`refs%2Fpr%2F1`, as both clients send it), or the unencoded `refs/pr/N` and
 * `refs/convert/X`.
 */
export function parseRepoPath(params: ParseRepoPathParams): RepoPath {
  const raw = params.path.split('/').filter((s) => s !== '')
  const id = raw.slice(params.skip, params.skip + params.idLength).map(decode)
  const repo = validateRepo({ type: params.type, id: id.join('/') })
  const after = raw.slice(params.skip + params.idLength + 1)
  if (after.length === 0) {
    if (params.needsRevision) throw new GatewayError(400, null, 'the revision is missing')
    return { repo, revision: 'main', rest: '' }
  }
  let take = 1
  if (after[0] === 'refs' && (after[1] === 'pr' || after[1] === 'convert') && after.length >= 3) take = 3
  const revision = after.slice(0, take).map(decode).join('/')
  if (revision === '') throw new GatewayError(400, null, 'the revision is empty')
  return { repo, revision, rest: after.slice(take).map(decode).join('/') }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new GatewayError(400, null, `malformed path segment "${segment}"`)
  }
}

/** `/datasets/` etc.: the URL prefix of a repo type on the Hub's file routes. */
export function fileRoutePrefix(type: RepoType): string {
  return type === 'model' ? '' : `${type}s/`
}

/** The path segments quoted one by one, slashes kept (Python's `quote(filename)`). */
export function encodeFilePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}
