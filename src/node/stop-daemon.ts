import { STOP_TIMEOUT_MS } from './constants.ts'
import { ControlClient, ControlApiError } from './control-client.ts'
import { isDaemonProcess } from './daemon-info.ts'

export class DaemonStopError extends Error {
  override name = 'DaemonStopError'
}

/**
 * Asks the daemon of `home` to stop (POST /v1/stop; SIGTERM if the API does not answer) and waits until
 * its process is gone. NotRunningError when there is none.
 */
export async function stopDaemon(home: string, timeoutMs = STOP_TIMEOUT_MS): Promise<{ pid: number }> {
  const client = await ControlClient.connect(home)
  const pid = client.info.pid
  try {
    await client.stop()
  } catch (err) {
    if (!(err instanceof ControlApiError) || err.status !== null) throw err
    process.kill(pid, 'SIGTERM')
  }
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isDaemonProcess(pid)) return { pid }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new DaemonStopError(`the daemon (pid ${pid}) did not stop within ${timeoutMs / 1000} s`)
}
