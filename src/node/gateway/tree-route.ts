import type { ControlRequest } from '../control-server.ts'
import { decodeTreeCursor, encodeTreeCursor } from './tree-cursor.ts'
import { TREE_PAGE_SIZE } from './constants.ts'
import { upstreamError } from './file-meta.ts'
import type { GatewayParts } from './gateway-parts.ts'
import { GatewayError, entryNotFound, notKnownOffline, sendJson } from './hub-answer.ts'
import { checkOfflineAccess } from './offline-access.ts'
import { gatewayOrigin, relayAnswer } from './relay.ts'
import type { RepoPath } from './repo-path.ts'
import { askUpstream } from './revision-route.ts'
import { listEntries, snapshotTree, withLastCommit } from './tree-entries.ts'

/** With `expand=true` the Hub pages by fewer entries. */
const EXPAND_PAGE_SIZE = 50

/**
 * `GET /api/{type}s/{repo}/tree/{rev}[/{path}]?recursive=&expand=&cursor=`: the upstream's listing (its
 * `Link: rel="next"` pages pointed back at this gateway); when it cannot answer, the listing of what the
 * node knows, in pages with a `Link` of its own. A folder the node does not know is a 404 `EntryNotFound`
 * only when its listing is complete (the index's); from a partial one (a peer's, a snapshot folder's) it
 * is a 504, which huggingface_hub and @huggingface/hub take for an unreachable Hub (falling back to their
 * cache) rather than for a folder that does not exist.
 */
export async function handleTree(gw: GatewayParts, req: ControlRequest, at: RepoPath): Promise<void> {
  const answer = await askUpstream(gw, req, at.repo)
  if (answer !== null && answer.status < 500)
    return relayAnswer(req, answer, gw.upstream.endpoint, { withoutXetHashes: true })
  const known = await gw.knowledge.find(at.repo, at.revision, req.signal)
  if (known === null) {
    if (answer !== null) throw upstreamError(answer)
    throw notKnownOffline(`${at.repo.id}@${at.revision}`)
  }
  checkOfflineAccess(gw, req, at.repo, known)
  const tree = snapshotTree(known)
  const dir = at.rest.replace(/\/+$/, '')
  if (dir !== '' && !tree.children.has(dir)) {
    if (known.complete) throw entryNotFound(known.commit)
    throw notKnownOffline(`${at.repo.id}@${at.revision}/${dir}`)
  }
  const truthy = (v: string | null): boolean => /^(1|true)$/i.test(v ?? '')
  const expand = truthy(req.query.get('expand'))
  const all = listEntries(tree, dir, truthy(req.query.get('recursive')))
  const pageSize = expand ? EXPAND_PAGE_SIZE : TREE_PAGE_SIZE
  const offset = decodeCursor(req.query.get('cursor'))
  const page = all.slice(offset, offset + pageSize).map((e) => withLastCommit(e, known.commit, expand))
  const headers: Record<string, string> = {}
  if (offset + pageSize < all.length) {
    const next = new URL(req.raw.url ?? req.path, gatewayOrigin(req))
    next.searchParams.set('cursor', encodeTreeCursor(offset + pageSize))
    headers.Link = `<${next.href}>; rel="next"`
  }
  sendJson(req, 200, page, headers)
}

function decodeCursor(cursor: string | null): number {
  const offset = decodeTreeCursor(cursor)
  if (offset === null) throw new GatewayError(400, null, 'Invalid cursor')
  return offset
}
