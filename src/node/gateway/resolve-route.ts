import { stat } from 'node:fs/promises'
import { blobPath, validateRepoFilePath } from '../../store/hf-cache/index.ts'
import type { ControlRequest } from '../control-server.ts'
import { resolveFileMeta } from './file-meta.ts'
import type { GatewayParts } from './gateway-parts.ts'
import { GrowingBlob } from './growing-blob.ts'
import { GatewayError } from './hub-answer.ts'
import { checkOfflineAccess } from './offline-access.ts'
import type { RepoPath } from './repo-path.ts'
import { answerSpan, resolveHeaders, serveCompleteBlob, serveGrowingBlob } from './serve-blob.ts'

/**
 * `HEAD|GET /{prefix}{repo}/resolve/{rev}/{path}`: the file's metadata from the upstream (with the client's
 * credentials) or from what the node knows; HEAD answers with it, GET with the bytes, from the node's cache
 * when the blob is there, else pulled through the swarm into that cache and streamed as they are verified.
 * Never a redirect to the upstream's CDN.
 */
export async function handleResolve(gw: GatewayParts, req: ControlRequest, at: RepoPath): Promise<void> {
  const path = validateRepoFilePath(at.rest)
  const authorization = req.raw.headers.authorization ?? null
  const meta = await resolveFileMeta({
    upstream: gw.upstream,
    knowledge: gw.knowledge,
    repo: at.repo,
    revision: at.revision,
    path,
    upstreamPath: req.raw.url ?? req.path,
    authorization,
    signal: req.signal,
    onUpstreamAnswer: (verdict) => gw.access.learnFromAnswer(at.repo, verdict),
    checkKnown: (known) => checkOfflineAccess(gw, req, at.repo, known),
  })
  const span = answerSpan(req, meta.size, resolveHeaders(req, meta))
  const blob = blobPath(gw.cacheDir, at.repo, meta.etag)
  if (req.method === 'HEAD' || meta.size === 0 || (await sizeOf(blob)) === meta.size) {
    return serveCompleteBlob(req, blob, span)
  }
  const pull = gw.pulls.start({ repo: at.repo, revision: at.revision, meta, authorization })
  try {
    await serveGrowingBlob(req, new GrowingBlob({ cacheDir: gw.cacheDir, home: gw.home, pull }), span)
  } catch (err) {
    throw pullError(err)
  }
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => null))?.size ?? -1
}

/** Why the bytes could not be had, as a Hub-style answer. */
function pullError(err: unknown): unknown {
  if (err instanceof GatewayError) return err
  const e = err as Error
  switch (e.name) {
    case 'OfflineError':
    case 'HubUnreachableError':
    case 'ChunksUnavailableError':
    case 'NoManifestError':
      return new GatewayError(504, null, `cannot get the file from peers or the upstream: ${e.message}`)
    case 'EntryNotFoundError':
      return new GatewayError(404, 'EntryNotFound', e.message)
    case 'RepoNotFoundError':
      return new GatewayError(404, 'RepoNotFound', e.message)
    case 'GatedRepoError':
      return new GatewayError(403, 'GatedRepo', e.message)
    case 'IntegrityError':
    case 'HubHttpError':
      return new GatewayError(502, null, e.message)
    default:
      return err
  }
}
