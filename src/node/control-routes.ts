import { HttpError, type ControlServer } from './control-server.ts'
import type { DaemonParts } from './daemon-parts.ts'
import { daemonStatus } from './daemon-status.ts'

/** Error names the routes let through, with their HTTP status. */
export const CONTROL_ERROR_STATUS: Record<string, number> = {
  PeerAddressError: 400,
  PeerNotFoundError: 404,
  PeerDialError: 502,
}

/** The daemon's own routes: status, peers, stop. */
export function addControlRoutes(control: ControlServer, parts: DaemonParts): void {
  control.route('GET', '/v1/status', async () => ({ body: await daemonStatus(parts) }))

  control.route('GET', '/v1/peers', async () => ({ body: await parts.peers.list() }))

  control.route('POST', '/v1/peers', async (req) => {
    const body = (await req.json()) as { addr?: unknown; port?: unknown; trust?: unknown }
    if (typeof body.addr !== 'string' || body.addr === '') throw new HttpError(400, '"addr" must be a string')
    if (body.port !== undefined && (typeof body.port !== 'number' || !Number.isInteger(body.port)))
      throw new HttpError(400, '"port" must be a whole number')
    if (body.trust !== undefined && typeof body.trust !== 'boolean')
      throw new HttpError(400, '"trust" must be true or false')
    const result = await parts.peers.add(body.addr, body.port as number | undefined, body.trust === true)
    return { status: 201, body: result }
  })

  control.route('DELETE', '/v1/peers', async (req) => {
    const body = (await req.json()) as { addr?: unknown }
    if (typeof body.addr !== 'string' || body.addr === '') throw new HttpError(400, '"addr" must be a string')
    return { body: { removed: await parts.peers.remove(body.addr) } }
  })

  control.route('POST', '/v1/stop', (req) => {
    // Answer first: the shutdown closes this server.
    req.res.once('finish', () => parts.stop())
    return { status: 202, body: { stopping: true, pid: process.pid } }
  })
}
