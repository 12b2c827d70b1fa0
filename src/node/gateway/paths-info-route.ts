import type { ControlRequest } from '../control-server.ts'
import { MAX_REQUEST_BODY_BYTES } from './constants.ts'
import { upstreamError } from './file-meta.ts'
import type { GatewayParts } from './gateway-parts.ts'
import { GatewayError, notKnownOffline, sendJson } from './hub-answer.ts'
import { checkOfflineAccess } from './offline-access.ts'
import { relayAnswer } from './relay.ts'
import type { RepoPath } from './repo-path.ts'
import { snapshotTree, withLastCommit } from './tree-entries.ts'

/**
 * `POST /api/{type}s/{repo}/paths-info/{rev}` with a JSON body (`{paths, expand}`, @huggingface/hub) or a
 * form (`paths=..&expand=..`, huggingface_hub): the upstream's answer; when it cannot answer, the entries
 * the node knows of. A path missing from a complete listing (the index's) is left out, as the Hub leaves
 * out missing ones; one missing from a partial listing (a peer's, a snapshot folder's) may exist, so the
 * answer is then a 504: huggingface_hub and @huggingface/hub take it for "the Hub is unreachable" (and fall
 * back to their cache), where leaving the path out would tell them it does not exist.
 */
export async function handlePathsInfo(gw: GatewayParts, req: ControlRequest, at: RepoPath): Promise<void> {
  const body = await readBody(req)
  const contentType = req.raw.headers['content-type'] ?? 'application/x-www-form-urlencoded'
  const authorization = req.raw.headers.authorization ?? null
  const answer = await gw.upstream.request(req.raw.url ?? req.path, {
    method: 'POST',
    authorization,
    headers: { 'content-type': contentType, accept: 'application/json' },
    body,
    signal: req.signal,
  })
  if (answer !== null) {
    gw.access.learnFromAnswer(at.repo, {
      status: answer.status,
      errorCode: answer.headers.get('x-error-code'),
      withAuthorization: authorization !== null,
      fileRoute: false,
    })
  }
  if (answer !== null && answer.status < 500)
    return relayAnswer(req, answer, gw.upstream.endpoint, { withoutXetHashes: true })
  const { paths, expand } = parseRequest(contentType, body)
  const known = await gw.knowledge.find(at.repo, at.revision, req.signal)
  if (known === null) {
    if (answer !== null) throw upstreamError(answer)
    throw notKnownOffline(`${at.repo.id}@${at.revision}`)
  }
  checkOfflineAccess(gw, req, at.repo, known)
  const tree = snapshotTree(known)
  const wanted = [...new Set(paths.map((p) => p.replace(/^\/+|\/+$/g, '')))]
  const unknown = wanted.find((p) => !tree.entries.has(p))
  if (unknown !== undefined && !known.complete)
    throw notKnownOffline(`${at.repo.id}@${at.revision}/${unknown}`)
  const entries = wanted.flatMap((p) => {
    const e = tree.entries.get(p)
    return e === undefined ? [] : [withLastCommit(e, known.commit, expand)]
  })
  sendJson(req, 200, entries)
}

function parseRequest(contentType: string, body: Uint8Array): { paths: string[]; expand: boolean } {
  const text = Buffer.from(body).toString('utf8')
  const truthy = (v: unknown): boolean => v === true || (typeof v === 'string' && /^(true|1)$/i.test(v))
  if (contentType.startsWith('application/json')) {
    let json: { paths?: unknown; expand?: unknown }
    try {
      json = (JSON.parse(text) ?? {}) as typeof json
    } catch {
      throw new GatewayError(400, null, 'Invalid JSON body')
    }
    const paths = Array.isArray(json.paths)
      ? json.paths
      : typeof json.paths === 'string'
        ? [json.paths]
        : null
    if (paths === null || !paths.every((p) => typeof p === 'string'))
      throw new GatewayError(400, null, '"paths" must be a list of strings')
    return { paths: paths as string[], expand: truthy(json.expand) }
  }
  const form = new URLSearchParams(text)
  return { paths: form.getAll('paths'), expand: truthy(form.get('expand')) }
}

async function readBody(req: ControlRequest): Promise<Uint8Array> {
  const parts: Buffer[] = []
  let total = 0
  for await (const part of req.raw as AsyncIterable<Buffer>) {
    total += part.byteLength
    if (total > MAX_REQUEST_BODY_BYTES) throw new GatewayError(413, null, 'Request body too large')
    parts.push(part)
  }
  return Buffer.concat(parts)
}
