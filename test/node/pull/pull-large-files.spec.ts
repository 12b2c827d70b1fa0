import assert from 'node:assert/strict'
import { pullLargeFiles, type FileJob } from '../../../src/node/pull/pull-large-files.ts'
import type { RemoteFile } from '../../../src/protocols/hub/fetch-snapshot.ts'
import type { Verifier } from '../../../src/store/verify/blob-verifier.ts'

const file = (path: string): RemoteFile => ({
  path,
  size: 1 << 30,
  etag: 'e'.repeat(64),
  lfs: true,
  xetHash: null,
})
const verifiers = [{ name: 'v0' }, { name: 'v1' }] as unknown as Verifier[]
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A pull that reports its bytes in when told, and ends when told. */
class FakePull {
  events: string[] = []
  private readonly gates = new Map<string, { fetched: () => void; end: (err?: Error) => void }>()
  readonly pullOne = (f: RemoteFile, job: FileJob): Promise<void> => {
    this.events.push(`start ${f.path} ${(job.verifier as unknown as { name: string }).name}`)
    return new Promise<void>((resolve, reject) => {
      this.gates.set(f.path, {
        fetched: () => job.onFetched?.(),
        end: (err) => {
          this.events.push(`end ${f.path}`)
          if (err === undefined) resolve()
          else reject(err)
        },
      })
    })
  }

  fetched(path: string): void {
    this.gates.get(path)?.fetched()
  }

  end(path: string, err?: Error): void {
    this.gates.get(path)?.end(err)
  }
}

describe('pullLargeFiles', () => {
  it('starts the next file once the bytes of the one before are in, with at most two under way', async () => {
    const fake = new FakePull()
    const done = pullLargeFiles([file('a'), file('b'), file('c')], verifiers, fake.pullOne)
    await tick()
    assert.deepEqual(fake.events, ['start a v0'])
    fake.fetched('a') // a is hashing its tail and syncing: b goes over the network meanwhile
    await tick()
    assert.deepEqual(fake.events, ['start a v0', 'start b v1'])
    fake.fetched('b') // c must wait for a: its verifier is a's
    await tick()
    assert.deepEqual(fake.events, ['start a v0', 'start b v1'])
    fake.end('a')
    await tick()
    assert.deepEqual(fake.events, ['start a v0', 'start b v1', 'end a', 'start c v0'])
    fake.end('c')
    fake.end('b')
    await done
  })

  it('reports a failure once the files still under way are over', async () => {
    const fake = new FakePull()
    const done = pullLargeFiles([file('a'), file('b'), file('c')], verifiers, fake.pullOne)
    await tick()
    fake.fetched('a')
    await tick()
    fake.end('b', new Error('b failed'))
    await tick()
    let settled = false
    void done.catch(() => (settled = true))
    await tick()
    assert.equal(settled, false, 'reported while a was still being written')
    fake.end('a')
    await assert.rejects(done, /b failed/)
    assert.ok(!fake.events.includes('start c v0'), 'c started after a failure')
  })
})
