import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { isDaemonProcess } from './daemon-info.ts'
import { daemonLockPath } from './home.ts'

export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunningError'
  readonly pid: number

  constructor(message: string, pid: number) {
    super(message)
    this.pid = pid
  }
}

export interface DaemonLock {
  release(): Promise<void>
}

/** Takes `HFFS_HOME/daemon.lock` (O_EXCL, holding our pid): one daemon per home. A stale lock is taken over. */
export async function acquireDaemonLock(home: string): Promise<DaemonLock> {
  await mkdir(home, { recursive: true })
  const path = daemonLockPath(home)
  // Bounded: each pass either takes the lock, finds a live owner, or removes one stale lock.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600)
      await fh.writeFile(String(process.pid))
      await fh.close()
      return {
        release: async () => {
          if ((await lockOwner(home)) === process.pid) await rm(path, { force: true })
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    let owner = await lockOwner(home)
    if (owner === null) {
      // Created but not yet written by a daemon starting this very moment: give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 100))
      owner = await lockOwner(home)
    }
    if (owner !== null && isDaemonProcess(owner)) {
      throw new AlreadyRunningError(`a daemon is already running for ${home} (pid ${owner})`, owner)
    }
    await rm(path, { force: true })
  }
  throw new Error(`could not take ${path}: another daemon is starting`)
}

/** The pid written in the lock, or null when there is no lock (or it is being written). */
export async function lockOwner(home: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(daemonLockPath(home), 'utf8')).trim())
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** The pid of the live daemon of this home, or null. */
export async function runningDaemonPid(home: string): Promise<number | null> {
  const pid = await lockOwner(home)
  return pid !== null && pid !== process.pid && isDaemonProcess(pid) ? pid : null
}
