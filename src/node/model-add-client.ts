import { request } from './http-client.ts'
import { createInterface } from 'node:readline'
import { ControlApiError, NotRunningError } from './control-client.ts'
import { readControlToken } from './control-token.ts'
import { isDaemonProcess, readDaemonInfo } from './daemon-info.ts'
import type { ModelAddEvent, ModelAddRequest } from './swarm-extension.ts'
import type { PullResult } from './pull/pull-snapshot.ts'

/**
 * `model add` through the running daemon: POST /v1/models/add, reading its NDJSON progress until the result.
 * NotRunningError when no daemon runs for `home` (the CLI then pulls in-process).
 */
export async function modelAddViaDaemon(
  home: string,
  body: ModelAddRequest,
  onEvent: (e: ModelAddEvent) => void,
  signal?: AbortSignal,
): Promise<PullResult> {
  const info = await readDaemonInfo(home)
  if (info === null || !isDaemonProcess(info.pid)) throw new NotRunningError('not running')
  const token = await readControlToken(home)
  if (token === null)
    throw new ControlApiError(`the daemon (pid ${info.pid}) has no control token in ${home}`, null)
  const payload = JSON.stringify(body)
  return new Promise<PullResult>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: info.port,
        method: 'POST',
        path: '/v1/models/add',
        agent: false,
        signal,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let msg = `HTTP ${res.statusCode}`
            try {
              msg = (JSON.parse(text) as { error?: string }).error ?? msg
            } catch {
              // not JSON
            }
            reject(new ControlApiError(msg, res.statusCode ?? null))
          })
          return
        }
        let settled = false
        const lines = createInterface({ input: res })
        lines.on('line', (line) => {
          if (line.trim() === '') return
          const e = JSON.parse(line) as ModelAddEvent
          onEvent(e)
          if (e.type === 'result') {
            settled = true
            resolve(e.result)
          } else if (e.type === 'error') {
            settled = true
            const err = new Error(e.message)
            err.name = e.name
            reject(err)
          }
        })
        lines.on('close', () => {
          if (!settled)
            reject(new ControlApiError('the daemon closed the connection before the pull ended', null))
        })
      },
    )
    req.on('error', (err) => reject(new ControlApiError(`the daemon does not answer: ${err.message}`, null)))
    req.end(payload)
  })
}
