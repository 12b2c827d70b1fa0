import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { daemonInfoPath } from './home.ts'

/** What a running daemon tells its clients through `HFFS_HOME/daemon.json`. */
export interface DaemonInfo {
  pid: number
  /** The control API's port on 127.0.0.1. */
  port: number
  controlUrl: string
  peerId: string
  /** libp2p addresses, with /p2p/<peer id>. */
  listen: string[]
  /** Where the HF-compatible gateway answers (the control URL, then any `--gateway-listen` listeners). */
  gateway?: string[]
  startedAt: string
}

export async function writeDaemonInfo(home: string, info: DaemonInfo): Promise<void> {
  const path = daemonInfoPath(home)
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 })
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/** The file's content, or null when absent or unreadable as daemon info. It may be stale: check the pid. */
export async function readDaemonInfo(home: string): Promise<DaemonInfo | null> {
  let text: string
  try {
    text = await readFile(daemonInfoPath(home), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  try {
    const info = JSON.parse(text) as DaemonInfo
    if (!Number.isInteger(info.pid) || !Number.isInteger(info.port)) return null
    return info
  } catch {
    return null
  }
}

/** Removes daemon.json if it still describes the process `pid`. */
export async function removeDaemonInfo(home: string, pid: number): Promise<void> {
  const info = await readDaemonInfo(home)
  if (info !== null && info.pid !== pid) return
  await rm(daemonInfoPath(home), { force: true })
}

/**
 * Whether `pid` is a live hffs-node process. On Linux the command line is checked too, so that a pid
 * reused after a crash or a reboot is not taken for the daemon.
 */
export function isDaemonProcess(pid: number): boolean {
  if (pid === process.pid) return true
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  let cmdline: string
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return true // no /proc (not Linux) or not readable: trust the signal check
  }
  return cmdline.includes('hffs-node')
}
