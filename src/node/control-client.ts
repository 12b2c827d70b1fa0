import { request } from './http-client.ts'
import { readControlToken } from './control-token.ts'
import { isDaemonProcess, readDaemonInfo, type DaemonInfo } from './daemon-info.ts'
import type { DaemonStatus } from './daemon-status.ts'
import type { ManualPeer } from './manual-peers.ts'
import type { AddPeerResult, PeerEntry } from './peer-book.ts'

/** No daemon runs for this home (no daemon.json, or its pid is gone). */
export class NotRunningError extends Error {
  override name = 'NotRunningError'
}

/** The daemon answered with an error, or not at all. */
export class ControlApiError extends Error {
  override name = 'ControlApiError'
  readonly status: number | null

  constructor(message: string, status: number | null) {
    super(message)
    this.status = status
  }
}

const DEFAULT_TIMEOUT_MS = 30_000

/** The CLI's side of the control API: finds the daemon through `HFFS_HOME/daemon.json` and its token. */
export class ControlClient {
  readonly info: DaemonInfo
  private readonly token: string

  private constructor(info: DaemonInfo, token: string) {
    this.info = info
    this.token = token
  }

  /** A client for the daemon of `home`; NotRunningError when there is none. */
  static async connect(home: string): Promise<ControlClient> {
    const info = await readDaemonInfo(home)
    if (info === null || !isDaemonProcess(info.pid)) throw new NotRunningError('not running')
    const token = await readControlToken(home)
    if (token === null)
      throw new ControlApiError(`the daemon (pid ${info.pid}) has no control token in ${home}`, null)
    return new ControlClient(info, token)
  }

  status(): Promise<DaemonStatus> {
    return this.call('GET', '/v1/status')
  }

  peers(): Promise<PeerEntry[]> {
    return this.call('GET', '/v1/peers')
  }

  addPeer(addr: string, port?: number, trust = false): Promise<AddPeerResult> {
    return this.call('POST', '/v1/peers', { addr, port, trust })
  }

  removePeer(addr: string): Promise<{ removed: ManualPeer[] }> {
    return this.call('DELETE', '/v1/peers', { addr })
  }

  stop(): Promise<{ stopping: boolean; pid: number }> {
    return this.call('POST', '/v1/stop')
  }

  /** One JSON request; a non-2xx answer becomes a ControlApiError with the daemon's message. */
  call<T>(method: string, path: string, body?: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.info.port,
          method,
          path,
          agent: false,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', reject)
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed: unknown = null
            try {
              parsed = text === '' ? null : JSON.parse(text)
            } catch {
              // not JSON: reported below with the status
            }
            const status = res.statusCode ?? 0
            if (status >= 200 && status < 300) resolve(parsed as T)
            else {
              const msg = (parsed as { error?: string } | null)?.error ?? `HTTP ${status}`
              reject(new ControlApiError(msg, status))
            }
          })
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
      req.on('error', (err) =>
        reject(
          new ControlApiError(
            `the daemon (pid ${this.info.pid}) does not answer on ${this.info.controlUrl}: ${err.message}`,
            null,
          ),
        ),
      )
      req.end(payload)
    })
  }
}
