import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { acquireDaemonLock, runningDaemonPid } from '../../src/node/daemon-lock.ts'
import { readDaemonInfo, removeDaemonInfo, writeDaemonInfo } from '../../src/node/daemon-info.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
  return Number(r.stdout.trim())
}

describe('daemon lock and daemon.json', () => {
  const tmp = useTmpDir()

  it('lets one daemon hold a home, and takes over a lock left by a dead one', async () => {
    const lock = await acquireDaemonLock(tmp())
    assert.equal((await readFile(join(tmp(), 'daemon.lock'), 'utf8')).trim(), String(process.pid))
    await assert.rejects(acquireDaemonLock(tmp()), { name: 'AlreadyRunningError' })
    await lock.release()
    await writeFile(join(tmp(), 'daemon.lock'), String(deadPid()))
    assert.equal(await runningDaemonPid(tmp()), null)
    const again = await acquireDaemonLock(tmp())
    await again.release()
  })

  it('does not take a live process that is not hffs-node for the daemon', async () => {
    await writeFile(join(tmp(), 'daemon.lock'), '1') // pid 1: alive, and not us
    assert.equal(await runningDaemonPid(tmp()), null)
  })

  it('writes daemon.json atomically and removes it only for its own pid', async () => {
    const info = {
      pid: 4242,
      port: 9009,
      controlUrl: 'http://127.0.0.1:9009',
      peerId: 'x',
      listen: [],
      startedAt: new Date().toISOString(),
    }
    await writeDaemonInfo(tmp(), info)
    assert.deepEqual(await readDaemonInfo(tmp()), info)
    await removeDaemonInfo(tmp(), 1)
    assert.notEqual(await readDaemonInfo(tmp()), null)
    await removeDaemonInfo(tmp(), 4242)
    assert.equal(await readDaemonInfo(tmp()), null)
    await writeFile(join(tmp(), 'daemon.json'), '{oops')
    assert.equal(await readDaemonInfo(tmp()), null)
  })
})
