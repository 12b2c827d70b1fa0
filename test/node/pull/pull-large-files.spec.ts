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
  /** Whether each file's mayFetch has resolved. */
  mayFetch = new Map<string, boolean>()
  private readonly gates = new Map<
    string,
    { fetched: () => void; nearly: () => void; end: (err?: Error) => void }
  >()
  readonly pullOne = (f: RemoteFile, job: FileJob): Promise<void> => {
    this.events.push(`start ${f.path} ${(job.verifier as unknown as { name: string }).name}`)
    this.mayFetch.set(f.path, false)
    void job.mayFetch?.then(() => this.mayFetch.set(f.path, true))
    return new Promise<void>((resolve, reject) => {
      this.gates.set(f.path, {
        fetched: () => job.onFetched?.(),
        nearly: () => job.onNearlyFetched?.(),
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

  nearly(path: string): void {
    this.gates.get(path)?.nearly()
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

  it('gets the next file ready when little is left of the one before, and lets it fetch once that is all in', async () => {
    const fake = new FakePull()
    const done = pullLargeFiles([file('a'), file('b')], verifiers, fake.pullOne)
    await tick()
    assert.equal(fake.mayFetch.get('a'), true, 'the first file fetches at once')
    fake.nearly('a')
    await tick()
    assert.deepEqual(fake.events, ['start a v0', 'start b v1'])
    assert.equal(fake.mayFetch.get('b'), false, 'b waits while a still asks for chunks')
    fake.fetched('a')
    await tick()
    assert.equal(fake.mayFetch.get('b'), true)
    fake.end('a')
    fake.end('b')
    await done
  })

  it('lets the next file fetch when the one before fails', async () => {
    const fake = new FakePull()
    const done = pullLargeFiles([file('a'), file('b')], verifiers, fake.pullOne)
    await tick()
    fake.nearly('a')
    await tick()
    assert.equal(fake.mayFetch.get('b'), false)
    fake.end('a', new Error('a failed'))
    await tick()
    assert.equal(fake.mayFetch.get('b'), true)
    fake.end('b')
    await assert.rejects(done, /a failed/)
  })
})
