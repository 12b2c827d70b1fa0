import assert from 'node:assert/strict'
import { POOL_READS_FOR_MS, SLOW_READ_MS, SyncReads } from '../../src/store/sync-reads.ts'

const FAST = 0.05
const SLOW = SLOW_READ_MS + 1

describe('SyncReads', () => {
  it('keeps reads synchronous through a slow read now and then', () => {
    const reads = new SyncReads()
    let now = 0
    // One slow read in every 8, for 800 reads: a busy machine preempting a read now and then.
    for (let i = 0; i < 800; i++) {
      reads.record(i % 8 === 0 ? SLOW : FAST, (now += 1))
      assert.equal(reads.allowed(now), true, `after read ${i}`)
    }
    // Two slow reads among 8 still do not count as a disk.
    reads.record(SLOW, (now += 1))
    reads.record(SLOW, (now += 1))
    assert.equal(reads.allowed(now), true)
  })

  it('sends reads to the pool once 3 of the last 8 were slow, for POOL_READS_FOR_MS', () => {
    const reads = new SyncReads()
    let now = 100
    for (const ms of [SLOW, FAST, FAST, SLOW, FAST, FAST, FAST]) reads.record(ms, (now += 1))
    assert.equal(reads.allowed(now), true)
    reads.record(SLOW, (now += 1))
    assert.equal(reads.allowed(now), false)
    assert.equal(reads.allowed(now + POOL_READS_FOR_MS - 1), false)
    assert.equal(reads.allowed(now + POOL_READS_FOR_MS), true)
  })

  it('starts afresh after the pool: the slow reads before it no longer count', () => {
    const reads = new SyncReads()
    let now = 0
    for (let i = 0; i < 3; i++) reads.record(SLOW, (now += 1))
    assert.equal(reads.allowed(now), false)
    now += POOL_READS_FOR_MS
    assert.equal(reads.allowed(now), true)
    reads.record(SLOW, (now += 1))
    reads.record(SLOW, (now += 1))
    assert.equal(reads.allowed(now), true)
    reads.record(SLOW, (now += 1))
    assert.equal(reads.allowed(now), false)
  })

  it('forgets a slow read 8 reads later', () => {
    const reads = new SyncReads()
    let now = 0
    reads.record(SLOW, (now += 1))
    reads.record(SLOW, (now += 1))
    for (let i = 0; i < 7; i++) reads.record(FAST, (now += 1))
    // The first slow read is now 9 reads back: this one makes 2 of the last 8.
    reads.record(SLOW, (now += 1))
    assert.equal(reads.allowed(now), true)
  })
})
