import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HubContext } from '../context.ts'
import { HubHttpError } from '../errors.ts'
import { readBody, sendJson } from '../http-util.ts'
import type { MockHubKnobs } from '../options.ts'

export type ControlRoute = 'mock-stats' | 'mock-reset' | 'mock-rescan' | 'mock-options'

async function readKnobs(req: IncomingMessage, signal: AbortSignal): Promise<MockHubKnobs> {
  try {
    const body = JSON.parse((await readBody(req, signal)).toString('utf8')) as unknown
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as MockHubKnobs
  } catch {
    // answered below
  }
  throw new HubHttpError(400, undefined, 'expected a JSON object of knobs')
}

/**
 * The mock's own endpoints (not the Hub's): `GET /_mock/stats`, `POST /_mock/reset`,
 * `POST /_mock/rescan`, and `GET|POST /_mock/options` to read or change knobs of a hub
 * started from the command line.
 */
export async function handleControl(
  ctx: HubContext,
  kind: ControlRoute,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  switch (kind) {
    case 'mock-stats':
      return sendJson(req, res, 200, ctx.stats.snapshot())
    case 'mock-reset':
      ctx.stats.reset()
      return sendJson(req, res, 200, { ok: true })
    case 'mock-rescan':
      ctx.store.rescan()
      return sendJson(req, res, 200, { ok: true })
    case 'mock-options': {
      if (req.method === 'POST') {
        const knobs = await readKnobs(req, signal)
        try {
          ctx.setKnobs(knobs)
        } catch (err) {
          throw new HubHttpError(400, undefined, (err as Error).message)
        }
      }
      const k = ctx.knobs()
      return sendJson(req, res, 200, { ...k, tokens: k.tokens.size, faults: ctx.faults.list() })
    }
  }
}
