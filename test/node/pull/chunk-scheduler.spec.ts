import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { scheduleChunks, type Availability } from '../../../src/node/pull/chunk-scheduler.ts'
import type { ChunkReply, PeerSource } from '../../../src/node/pull/peer-source.ts'
import { hashToHex } from '../../../src/store/xet/index.ts'

/** A peer holding some keys; records what it was asked for. */
function peer(id: string, holds: Set<string>, delayMs = 0): PeerSource & { asked: string[] } {
  const asked: string[] = []
  return {
    id,
    asked,
    fetchManifest: async () => null,
    async *fetchChunks(hashes): AsyncIterable<ChunkReply> {
      for (const h of hashes) {
        const key = hashToHex(h)
        asked.push(key)
        if (delayMs > 0) await sleep(delayMs)
        yield holds.has(key) ? { hash: h, data: h } : { hash: h, missing: true }
      }
    },
  }
}

function keys(n: number): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>()
  for (let i = 0; i < n; i++) {
    const h = new Uint8Array(32)
    h[0] = i
    h[1] = 7
    m.set(hashToHex(h), h)
  }
  return m
}

describe('scheduleChunks', () => {
  it('asks each peer only for chunks its have-map shows, and gets every chunk', async () => {
    const wanted = keys(40)
    const all = [...wanted.keys()]
    const evens = new Set(all.filter((_, i) => i % 2 === 0))
    const a = peer('a', new Set(all), 1)
    const b = peer('b', evens, 1)
    const availability: Availability = {
      has: (id, key) => id === 'a' || evens.has(key),
      onChange: () => {},
    }
    const got: string[] = []
    const left = await scheduleChunks(
      new Map(wanted),
      [a, b],
      { batchSize: 4, window: 2, maxFailures: 3 },
      async (hash) => void got.push(hashToHex(hash)),
      undefined,
      availability,
    )
    assert.equal(left.size, 0)
    assert.deepEqual(new Set(got), new Set(all))
    assert.ok(
      b.asked.every((k) => evens.has(k)),
      'b was asked only for what it has',
    )
    assert.ok(b.asked.length > 0, 'b took part')
  })

  it('duplicates the last requests in flight (endgame), and a slow peer does not hold up the end', async () => {
    const wanted = keys(8)
    const all = new Set(wanted.keys())
    const slow = peer('slow', all, 400)
    const fast = peer('fast', all, 1)
    const started = Date.now()
    const left = await scheduleChunks(
      new Map(wanted),
      [slow, fast],
      { batchSize: 4, window: 1, maxFailures: 3 },
      async () => {},
    )
    assert.equal(left.size, 0)
    assert.ok(Date.now() - started < 1200, `took ${Date.now() - started} ms`)
    assert.ok(fast.asked.length > 4, 'the fast peer also took chunks first asked of the slow one')
  })

  it('returns only once every chunk handed out has been placed', async () => {
    const wanted = keys(12)
    let placed = 0
    const left = await scheduleChunks(
      new Map(wanted),
      [peer('a', new Set(wanted.keys()))],
      { batchSize: 4, window: 3, maxFailures: 3 },
      async () => {
        await sleep(30) // a write that takes a while: the last ones outlast the last answer
        placed++
      },
    )
    assert.equal(left.size, 0)
    assert.equal(placed, 12)
  })

  it('in the endgame, never asks again for a chunk that already came in', async () => {
    const wanted = keys(8)
    const all = new Set(wanted.keys())
    const slow = peer('slow', all, 300)
    const fast = peer('fast', all, 1)
    const third = peer('third', all, 50)
    // Record every batch as handed over, before the peer looks at it.
    const batches: (Uint8Array | undefined)[][] = []
    const watch = (p: PeerSource): PeerSource => ({
      ...p,
      fetchChunks: (hashes, opts) => {
        batches.push([...hashes])
        return p.fetchChunks(hashes, opts)
      },
    })
    const dropped: string[] = []
    const left = await scheduleChunks(
      new Map(wanted),
      [watch(slow), watch(fast), watch(third)],
      { batchSize: 4, window: 1, maxFailures: 3 },
      async () => {},
      (p) => dropped.push(p.id),
    )
    assert.equal(left.size, 0)
    assert.ok(
      batches.every((b) => b.every((h) => h instanceof Uint8Array)),
      'a batch named a chunk no longer wanted',
    )
    assert.deepEqual(dropped, [])
  })
})
