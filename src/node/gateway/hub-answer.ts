import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { ControlHandler, ControlRequest } from '../control-server.ts'
import { errorMessage, type Logger } from '../logger.ts'
import { EXPOSE_HEADERS } from './constants.ts'

/**
 * An answer in the Hub's error format: a status, `X-Error-Code` (RepoNotFound, RevisionNotFound,
 * EntryNotFound, GatedRepo) when there is one, `X-Error-Message` and `{"error": message}`.
 */
export class GatewayError extends Error {
  override name = 'GatewayError'
  readonly status: number
  readonly code: string | null
  readonly headers: Record<string, string>

  constructor(status: number, code: string | null, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.code = code
    this.headers = headers
  }
}

export const revisionNotFound = (revision: string): GatewayError =>
  new GatewayError(404, 'RevisionNotFound', `Invalid rev id: ${revision}`)

export const entryNotFound = (commit: string): GatewayError =>
  new GatewayError(404, 'EntryNotFound', 'Entry not found', { 'X-Repo-Commit': commit })

/**
 * The upstream cannot be reached and neither this node nor its peers know the answer. A 504, not a 404:
 * huggingface_hub takes a 5xx on its metadata HEAD or repo info like a connection error and falls back to
 * its own cache, where a 404 would tell it the repo, revision or file does not exist. No `X-Error-Code`:
 * the Hub has none for it.
 */
export const notKnownOffline = (what: string): GatewayError =>
  new GatewayError(504, null, `${what}: the upstream Hub cannot be reached and no peer or cache has it`)

/** Headers the Hub puts on every answer (CORS and a request id). */
export function commonHeaders(req: ControlRequest): Record<string, string> {
  return {
    'X-Request-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
    'Access-Control-Allow-Origin': req.raw.headers.origin ?? '*',
    'Access-Control-Expose-Headers': EXPOSE_HEADERS,
    Vary: 'Origin',
  }
}

export function sendJson(
  req: ControlRequest,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const data = Buffer.from(JSON.stringify(body))
  req.res.writeHead(status, {
    ...commonHeaders(req),
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(data.byteLength),
  })
  req.res.end(req.method === 'HEAD' ? undefined : data)
}

export function sendGatewayError(req: ControlRequest, err: GatewayError): void {
  // Header values must be latin1 without line breaks.
  const message = err.message.replace(/[^\x20-\x7e]/g, '?')
  const headers: Record<string, string> = { ...err.headers, 'X-Error-Message': message }
  if (err.code !== null) headers['X-Error-Code'] = err.code
  sendJson(req, err.status, { error: err.message }, headers)
}

/** Errors of the caller's request (a bad repo id or path) answer 400. */
const BAD_REQUEST = new Set([
  'InvalidRepoIdError',
  'UnsafePathError',
  'InvalidRefNameError',
  'InvalidCommitError',
  'InvalidEtagError',
])

/**
 * Wraps a gateway handler for the control server: answers its GatewayError in the Hub's format, a bad
 * request as 400, anything else as 500 (logged); a response already under way is cut instead.
 */
export function hubRoute(log: Logger, handler: (req: ControlRequest) => Promise<void>): ControlHandler {
  return async (req) => {
    try {
      await handler(req)
    } catch (err) {
      if (req.signal.aborted) return endQuietly(req.res)
      const e =
        err instanceof GatewayError
          ? err
          : BAD_REQUEST.has((err as Error).name)
            ? new GatewayError(400, null, errorMessage(err))
            : null
      if (e === null) log.warn(`${req.method} ${req.path}: ${errorMessage(err)}`)
      if (req.res.headersSent) return endQuietly(req.res)
      sendGatewayError(req, e ?? new GatewayError(500, null, errorMessage(err)))
    }
  }
}

function endQuietly(res: ServerResponse): void {
  if (!res.writableEnded) res.destroy()
}
