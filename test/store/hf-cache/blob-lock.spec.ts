import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { lockPath, withBlobLock } from '../../../src/store/hf-cache/index.ts'
import type { RepoRef } from '../../../src/store/hf-cache/index.ts'
import { useTempDir } from './helpers.ts'

const repo: RepoRef = { type: 'model', id: 'org/model' }
const etag = 'f'.repeat(64)
const INDEX_URL = pathToFileURL(join(import.meta.dirname, '../../../src/store/hf-cache/index.ts')).href

describe('hf-cache withBlobLock', () => {
  const tmp = useTempDir()

  it('holds .locks/<repo>/<etag>.lock with the pid while running, and removes it after', async () => {
    const path = lockPath(tmp.path, repo, etag)
    const seen = await withBlobLock(tmp.path, repo, etag, () => readFile(path, 'utf8'))
    assert.equal(seen, `${process.pid}\n${hostname()}\n`)
    await assert.rejects(readFile(path), { code: 'ENOENT' })
    await assert.rejects(
      withBlobLock(tmp.path, repo, etag, async () => {
        throw new Error('boom')
      }),
      { message: 'boom' },
    )
    await assert.rejects(readFile(path), { code: 'ENOENT' })
  })

  it('serializes holders of the same blob and lets other blobs run', async () => {
    const events: string[] = []
    const hold = (name: string, e: string) =>
      withBlobLock(
        tmp.path,
        repo,
        e,
        async () => {
          events.push(`+${name}`)
          await delay(30)
          events.push(`-${name}`)
        },
        { pollMs: 5 },
      )
    await Promise.all([hold('a', etag), hold('b', etag), hold('c', etag)])
    for (let i = 0; i < events.length; i += 2)
      assert.equal(events[i].slice(1), events[i + 1].slice(1), events.join(' '))
    events.length = 0
    await Promise.all([hold('x', etag), hold('y', 'e'.repeat(64))])
    assert.deepEqual(events.slice(0, 2).sort(), ['+x', '+y'])
  })

  it('takes over a lock whose process is gone, or that has not been refreshed', async () => {
    const path = lockPath(tmp.path, repo, etag)
    await mkdir(dirname(path), { recursive: true })
    const gone = spawnSync(process.execPath, ['-e', '']).pid
    await writeFile(path, `${gone}\n${hostname()}\n`)
    assert.equal(await withBlobLock(tmp.path, repo, etag, async () => 'mine', { pollMs: 5 }), 'mine')
    // An empty lock file as huggingface_hub's filelock leaves behind, last touched long ago.
    await writeFile(path, '')
    await utimes(path, new Date(0), new Date(0))
    assert.equal(await withBlobLock(tmp.path, repo, etag, async () => 'again', { pollMs: 5 }), 'again')
  })

  it('waits for a live holder until aborted', async () => {
    const path = lockPath(tmp.path, repo, etag)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, `${process.pid}\n${hostname()}\n`)
    let ran = false
    await assert.rejects(
      withBlobLock(
        tmp.path,
        repo,
        etag,
        async () => {
          ran = true
        },
        { pollMs: 5, signal: AbortSignal.timeout(60) },
      ),
      { name: 'TimeoutError' },
    )
    assert.equal(ran, false)
    assert.equal(await readFile(path, 'utf8'), `${process.pid}\n${hostname()}\n`, 'a live lock is left alone')
  })

  it('excludes another process', async () => {
    const marker = join(tmp.path, 'child-done')
    const code = `
      import { withBlobLock } from ${JSON.stringify(INDEX_URL)}
      import { writeFile } from 'node:fs/promises'
      await withBlobLock(${JSON.stringify(tmp.path)}, ${JSON.stringify(repo)}, ${JSON.stringify(etag)}, async () => {
        process.stdout.write('locked\\n')
        await new Promise((r) => setTimeout(r, 250))
        await writeFile(${JSON.stringify(marker)}, 'done')
      })`
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve())
      child.once('exit', (c) => reject(new Error(`child exited with ${c}`)))
    })
    const inside = await withBlobLock(tmp.path, repo, etag, () => readFile(marker, 'utf8'), { pollMs: 10 })
    assert.equal(inside, 'done')
    assert.equal(await exited, 0)
  })
})
