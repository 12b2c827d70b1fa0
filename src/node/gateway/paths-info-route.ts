import type { ControlRequest } from '../control-server.ts'
import { MAX_REQUEST_BODY_BYTES } from './constants.ts'
import { upstreamError } from './file-meta.ts'
import type { GatewayParts } from './gateway-parts.ts'
import { GatewayError, notKnownOffline, sendJson } from './hub-answer.ts'
import { relayAnswer } from './relay.ts'
import type { RepoPath } from './repo-path.ts'
import { snapshotTree, withLastCommit } from './tree-entries.ts'

/**
 * `POST /api/{type}s/{repo}/paths-info/{rev}` with a JSON body (`{paths, expand}`, @huggingface/hub) or a
 * form (`paths=..&expand=..`, huggingface_hub): the upstream's answer; when it cannot answer, the entries
 * the node knows of (paths it does not know are left out, as the Hub leaves out missing ones).
 */
export async function handlePathsInfo(gw: GatewayParts, req: ControlRequest, at: RepoPath): Promise<void> {
  const body = await readBody(req)
  const contentType = req.raw.headers['content-type'] ?? 'application/x-www-form-urlencoded'
  const answer = await gw.upstream.request(req.raw.url ?? req.path, {
    method: 'POST',
    authorization: req.raw.headers.authorization ?? null,
    headers: { 'content-type': contentType, accept: 'application/json' },
    body,
    signal: req.signal,
  })
  if (answer !== null && answer.status < 500)
    return relayAnswer(req, answer, gw.upstream.endpoint, { withoutXetHashes: true })
  const { paths, expand } = parseRequest(contentType, body)
  const known = await gw.knowledge.find(at.repo, at.revision, req.signal)
  if (known === null) {
    if (answer !== null) throw upstreamError(answer)
    throw notKnownOffline(`${at.repo.id}@${at.revision}`)
  }
  const tree = snapshotTree(known)
  const entries = [...new Set(paths.map((p) => p.replace(/^\/+|\/+$/g, '')))].flatMap((p) => {
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
