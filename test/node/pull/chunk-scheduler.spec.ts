import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Availability } from '../../../src/node/pull/availability.ts'
import { scheduleChunks } from '../../../src/node/pull/chunk-scheduler.ts'
import type { ChunkReply, PeerSource } from '../../../src/node/pull/peer-source.ts'
import { hashToHex } from '../../../src/store/xet/index.ts'
import { joinParts } from '../../../src/store/byte-parts.ts'

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
    h[0] = i & 255
    h[1] = 7
    h[2] = i >> 8
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
      mayGain: () => false,
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

  it('hands each chunk over with its key, whether a peer answers in request order or not', async () => {
    const wanted = keys(24)
    // One peer answers in order with the hashes asked; the other in reverse, with copies of them.
    const inOrder = peer('in-order', new Set(wanted.keys()))
    const reversed: PeerSource = {
      id: 'reversed',
      fetchManifest: async () => null,
      async *fetchChunks(hashes): AsyncIterable<ChunkReply> {
        for (const h of [...hashes].reverse()) yield { hash: h.slice(), data: h.slice() }
      },
    }
    for (const source of [inOrder, reversed]) {
      const got = new Map<string, string>()
      const left = await scheduleChunks(
        new Map(wanted),
        [source],
        { batchSize: 5, window: 2, maxFailures: 1 },
        async (_hash, data, _peer, key) => void got.set(key, hashToHex(joinParts(data))),
        () => assert.fail(`${source.id} dropped`),
      )
      assert.equal(left.size, 0)
      assert.deepEqual(new Map([...got].sort()), new Map([...wanted.keys()].sort().map((k) => [k, k])))
    }
  })

  it('does not rank by rarity when every peer holds every chunk (seeders): a have-map lookup or two a chunk', async () => {
    const wanted = keys(2048)
    const all = [...wanted.keys()]
    const complete = new Set(all)
    const peers = ['a', 'b', 'c', 'd'].map((id) => peer(id, complete))
    let lookups = 0
    const availability: Availability = {
      has: () => {
        lookups++
        return true
      },
      mayGain: () => false,
      onChange: () => {},
    }
    const left = await scheduleChunks(
      new Map(wanted),
      peers,
      { batchSize: 32, window: 2, maxFailures: 3 },
      async () => {},
      undefined,
      availability,
    )
    assert.equal(left.size, 0)
    assert.ok(
      peers.every((p) => p.asked.length > 0),
      'every seeder took part',
    )
    // Ranking looks 16 batches ahead and asks every peer about each chunk there: 64+ lookups a chunk.
    assert.ok(lookups < 8 * all.length, `${lookups} have-map lookups for ${all.length} chunks`)
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

  it('says once when every chunk has been asked, while the last ones are still on their way', async () => {
    const wanted = keys(24)
    let placed = 0
    const calls: number[] = []
    const left = await scheduleChunks(
      new Map(wanted),
      [peer('a', new Set(wanted.keys()), 5), peer('b', new Set(wanted.keys()), 5)],
      { batchSize: 4, window: 2, maxFailures: 3, onAllAsked: () => calls.push(placed) },
      async () => void placed++,
    )
    assert.equal(left.size, 0)
    assert.equal(calls.length, 1)
    // The last of the 6 batches was just handed out: it, at least, was still to come.
    assert.ok((calls[0] ?? 24) <= 20, `${calls[0]} of 24 chunks were in when it said so`)
  })

  it('says once, with 8 batches or fewer left to ask for, that the file is nearly all asked', async () => {
    const wanted = keys(4 * 20)
    let placed = 0
    const calls: number[] = []
    const left = await scheduleChunks(
      new Map(wanted),
      [peer('a', new Set(wanted.keys()), 5)],
      { batchSize: 4, window: 2, maxFailures: 3, onNearlyAllAsked: () => calls.push(placed) },
      async () => void placed++,
    )
    assert.equal(left.size, 0)
    assert.equal(calls.length, 1)
    // 20 batches, 2 in flight: it says so when 12 have been handed out, so at most 10 are in by then.
    assert.ok((calls[0] ?? 80) <= 4 * 12, `${calls[0]} of 80 chunks were in when it said so`)
    assert.ok((calls[0] ?? 0) >= 4 * 8, `${calls[0]} of 80 chunks were in when it said so`)
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

describe('scheduleChunks under the global limit', () => {
  it('keeps at most maxInFlight batches out over all peers, and shares them among the peers', async () => {
    const wanted = keys(200)
    let now = 0
    let most = 0
    const served = new Map<string, number>()
    const peers: PeerSource[] = ['p1', 'p2', 'p3', 'p4'].map((id) => ({
      id,
      fetchManifest: async () => null,
      async *fetchChunks(hashes): AsyncIterable<ChunkReply> {
        now++
        most = Math.max(most, now)
        try {
          for (const h of hashes) {
            await sleep(1)
            served.set(id, (served.get(id) ?? 0) + 1)
            yield { hash: h, data: h }
          }
        } finally {
          now--
        }
      },
    }))
    const left = await scheduleChunks(
      new Map(wanted),
      peers,
      { batchSize: 4, window: 8, maxFailures: 3, maxInFlight: 4 },
      async () => {},
    )
    assert.equal(left.size, 0)
    assert.ok(most <= 4, `${most} batches were in flight at once`)
    for (const p of peers) assert.ok((served.get(p.id) ?? 0) >= 20, `${p.id} served ${served.get(p.id)}`)
  })
})

describe('scheduleChunks: where a pull begins', () => {
  it('begins at startAt in the blob and wraps around, so nodes pulling at once ask a seeder for different chunks', async () => {
    const wanted = keys(40)
    const all = [...wanted.keys()]
    const a = peer('a', new Set(all))
    await scheduleChunks(
      new Map(wanted),
      [a],
      { batchSize: 4, window: 1, maxFailures: 3, startAt: 0.5 },
      async () => {},
    )
    // The first batch is the one at the start place; the last chunks asked are those before it.
    assert.deepEqual(a.asked.slice(0, 4), all.slice(20, 24))
    assert.ok(a.asked.slice(-8).includes(all[19]), 'the chunks before the start place come last')
    assert.deepEqual(new Set(a.asked), new Set(all))
    const b = peer('b', new Set(all))
    await scheduleChunks(
      new Map(wanted),
      [b],
      { batchSize: 4, window: 1, maxFailures: 3, startAt: 0 },
      async () => {},
    )
    assert.deepEqual(b.asked.slice(0, 4), all.slice(0, 4))
  })
})

describe('scheduleChunks with a peer still downloading', () => {
  it('takes chunks from a peer as its have-map grows, without rescanning the queue on every update', async () => {
    const n = 2000
    const wanted = keys(n)
    const all = [...wanted.keys()]
    const seeder = peer('seeder', new Set(all), 1)
    const grown = new Set<string>()
    const leecher = peer('leecher', grown)
    let hasCalls = 0
    let announce: (peerId: string, keys: readonly string[]) => void = () => {}
    const availability: Availability = {
      has: (id, key) => {
        hasCalls++
        return id === 'seeder' || grown.has(key)
      },
      mayGain: (id) => id === 'leecher',
      onChange: (wake) => (announce = wake),
    }
    // The other node gets the chunks from the back of the blob, one update per chunk, while we pull.
    let stop = false
    const feeding = (async () => {
      for (let i = n - 1; i >= 0 && !stop; i--) {
        grown.add(all[i])
        announce('leecher', [all[i]])
        if (i % 8 === 0) await sleep(1)
      }
    })()
    const left = await scheduleChunks(
      new Map(wanted),
      [seeder, leecher],
      { batchSize: 16, window: 4, maxFailures: 3, startAt: 0 },
      async () => {},
      undefined,
      availability,
    )
    stop = true
    await feeding
    assert.equal(left.size, 0)
    assert.ok(leecher.asked.length > 0, 'the peer still downloading served chunks as it got them')
    assert.ok(
      leecher.asked.every((k) => grown.has(k)),
      'and only chunks it had announced',
    )
    // Rescanning the queue on each of its 2000 updates would be millions of lookups.
    assert.ok(hasCalls < 100 * n, `${hasCalls} have-map lookups for ${n} chunks`)
  })
})

describe('scheduleChunks with chunks left to the nodes that own their shares', () => {
  it('takes over a slow owner when this node owns no share and so never measured a pace of its own', async () => {
    // Another node pulling the blob owns every share, and gets a chunk every 100 ms (a low cap). This
    // node fetched nothing from the seeder itself: before, it had no pace to call the owner slow against
    // and waited for it chunk by chunk (the co-leechers test caught it when the share score gave one node
    // every share).
    const wanted = keys(80)
    const all = [...wanted.keys()]
    const seeder = peer('seeder', new Set(all), 1)
    const grown = new Set<string>()
    const owner = peer('owner', grown)
    let announce: (peerId: string, keys: readonly string[]) => void = () => {}
    let recent: number[] = []
    const availability: Availability = {
      has: (id, key) => id === 'seeder' || grown.has(key),
      mayGain: (id) => id === 'owner',
      leaveToOwner: (id) => id !== 'owner',
      ownerOf: () => 'owner',
      isCoLeecher: (id) => id === 'owner',
      coLeechersGainRate: () => {
        recent = recent.filter((t) => t > Date.now() - 2000)
        return recent.length / 2
      },
      onChange: (wake) => (announce = wake),
    }
    let stop = false
    const feeding = (async () => {
      for (let i = 0; i < all.length && !stop; i++) {
        await sleep(100)
        grown.add(all[i])
        recent.push(Date.now())
        announce('owner', [all[i]])
      }
    })()
    const started = Date.now()
    const left = await scheduleChunks(
      new Map(wanted),
      [seeder, owner],
      { batchSize: 8, window: 2, maxFailures: 3, startAt: 0 },
      async () => {},
      undefined,
      availability,
    )
    const ms = Date.now() - started
    stop = true
    await feeding
    assert.equal(left.size, 0)
    // Waiting for the owner throughout would take 8 s and ask the seeder for nothing.
    assert.ok(seeder.asked.length >= all.length / 2, `the seeder was asked for ${seeder.asked.length} chunks`)
    assert.ok(ms < 6500, `the pull took ${ms} ms`)
  })
})

describe('scheduleChunks when a peer fails', () => {
  it('counts the batches that fail together with a dropped connection as one failure', async () => {
    const wanted = keys(120)
    let failing = 0
    // Three batches in flight, all cut at about the same moment, then the peer answers again.
    let cut = false
    const flaky: PeerSource = {
      id: 'flaky',
      fetchManifest: async () => null,
      async *fetchChunks(hashes): AsyncIterable<ChunkReply> {
        for (const h of hashes) {
          await sleep(1)
          if (!cut && failing < 3) {
            failing++
            if (failing === 3) cut = true
            await sleep(5)
            throw new Error('connection reset')
          }
          yield { hash: h, data: h }
        }
      },
    }
    const dropped: string[] = []
    const left = await scheduleChunks(
      new Map(wanted),
      [flaky],
      { batchSize: 4, window: 3, maxFailures: 3 },
      async () => {},
      (p) => void dropped.push(p.id),
    )
    assert.deepEqual(dropped, [], 'the peer was kept')
    assert.equal(left.size, 0, 'every chunk came from it after the drop')
  })

  it('drops a peer that keeps failing, after pauses, and leaves its chunks over', async () => {
    const wanted = keys(20)
    let calls = 0
    const dead: PeerSource = {
      id: 'dead',
      fetchManifest: async () => null,
      // eslint-disable-next-line require-yield
      async *fetchChunks(): AsyncIterable<ChunkReply> {
        calls++
        throw new Error('connection refused')
      },
    }
    const dropped: string[] = []
    const started = performance.now()
    const left = await scheduleChunks(
      new Map(wanted),
      [dead],
      { batchSize: 4, window: 4, maxFailures: 3 },
      async () => {},
      (p) => void dropped.push(p.id),
    )
    assert.deepEqual(dropped, ['dead'])
    assert.equal(left.size, 20)
    assert.ok(calls >= 3, `asked ${calls} times`)
    // Two pauses (250 ms, then 500 ms) between the three counted failures.
    assert.ok(performance.now() - started >= 700, 'it paused before asking again')
  })
})
