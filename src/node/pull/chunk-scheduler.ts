import type { Availability } from './availability.ts'
import type { PeerSource } from './peer-source.ts'
import { hashToHex } from '../../store/xet/index.ts'
import type { ByteParts } from '../../store/byte-parts.ts'

export interface SchedulerOptions {
  /** Chunk hashes per request. */
  batchSize: number
  /** Requests in flight per peer to begin with; it grows with a fast peer and shrinks with a slow one. */
  window: number
  /** Upper bound of a peer's window (default MAX_WINDOW). */
  maxWindow?: number
  /** A peer is dropped after this many failed requests in a row. */
  maxFailures: number
  /**
   * Batches in flight over all peers together (default 8): bounds the memory a pull buffers, about
   * batchSize x 64 KiB each, however many peers there are.
   */
  maxInFlight?: number
  /** Where in the wanted chunks to begin, as a fraction in [0, 1); default random. */
  startAt?: number
  /** Called once, when every wanted chunk has been asked of some peer (what is left is the tail). */
  onAllAsked?: () => void
  /** Called once, when at most NEARLY_ALL_BATCHES batches' worth of chunks are left to ask for. */
  onNearlyAllAsked?: () => void
  /** False: peers hand chunks over unchecked, and onChunk's caller checks them (default true). */
  verify?: boolean
  signal?: AbortSignal
}

interface PeerState {
  source: PeerSource
  inFlight: number
  window: number
  failures: number
  dead: boolean
  /** Chunks this peer said it lacks (until its have-map says otherwise). */
  missing: Set<string>
  /** Chunks in flight to this peer. */
  asked: Set<string>
  /** When its last failure was counted (performance.now()); batches started before it fail uncounted. */
  failedAt: number
  /**
   * Where its batches are picked from: 'all' = the pending chunks (it holds them all, or its have-map is
   * unknown); else the wanted chunks its have-map shows, kept as the map grows (pending ones are checked
   * when picked). null until its first pick. A peer that holds a few chunks is then not a scan of every
   * pending chunk on each wake-up: with several peers still downloading, that was quadratic.
   */
  view: Set<string> | 'all' | null
  /**
   * When a pick found nothing to ask of it but chunks left to the nodes that own their shares
   * (performance.now()): it is not scanned again for OWNERS_RESCAN_MS, unless a chunk is requeued.
   */
  leftToOwnersAt: number
}

/** How long to wait for peers still downloading to get chunks nobody has yet, with no progress at all. */
const HAVE_WAIT_MS = 30_000
/** Batches that take longer than this shrink the window; much faster ones grow it. */
const SLOW_BATCH_MS = 2000
/**
 * Default batches in flight over all peers together: at 64 chunks of ~64 KiB a batch, 32 MiB, enough for
 * 335 MB/s at 100 ms. With 16, four seeders on 127.0.0.1 each kept 4 batches queued at once and the leecher
 * paid for it in CPU (15.5 CPU-s per GiB instead of 10.2) and speed (56-65 MB/s instead of 67); one seeder
 * and capped seeders: no change. With 4 (one batch per peer when there are four, as many as one seeder
 * gets), four seeders capped at 25 MB/s each gave 88.5 MB/s instead of 92.5-95.8: each sat idle between
 * its batches. Four uncapped seeders: within the machine's noise (0.85x of one seeder, 5 runs).
 */
const MAX_IN_FLIGHT = 8
/**
 * Default most batches in flight to one peer: 16 MiB, 168 MB/s at 100 ms. Each batch is a stream, and the
 * streams' frames interleave on the connection: one seeder on 127.0.0.1 with 8 gave its leecher 4.7-5.0
 * CPU-s per GiB at 211-227 MiB/s, with 4 it gave 4.0-4.3 CPU-s at 234-245 MiB/s.
 */
const MAX_WINDOW = 4
/**
 * onNearlyAllAsked fires with this many batches left to ask for: at 64 chunks a batch, 32 MiB, ~0.2 s at
 * 170 MB/s, about what the next file takes to get ready (manifest, have-maps, the lookup of local chunks).
 */
const NEARLY_ALL_BATCHES = 8
/** Rarest first looks this many batches ahead among the chunks a peer holds. */
const RANK_WINDOW = 16
/** Pause before a peer that failed is asked again, times its failures in a row. */
const RETRY_PAUSE_MS = 250
const FAST_BATCH_MS = 300
/**
 * A pull sits idle leaving chunks to the other nodes that fetch their shares for at most this long in all,
 * plus as long as it has been busy itself (while the others fetch their shares, it fetched its own). Only
 * time in which they get chunks at less than half the pace this node got its own from the seeders counts:
 * owners slow for a reason of their own (a low cap) are taken over, but not owners that share a slow link
 * (a WAN) with this node, where fetching their shares too would only send them over it twice.
 */
const OWNER_WAIT_MS = 3000
/** A peer with nothing to ask of it but chunks left to their shares' owners is looked at again after this. */
const OWNERS_RESCAN_MS = 250

/**
 * Spreads the wanted chunks over the peers. Rarest first: among the next chunks a peer holds (a window
 * of RANK_WINDOW batches), those the fewest peers hold go first. Each peer keeps a window of batches in flight that grows while it answers fast and
 * shrinks when it is slow. When nothing is left to ask, idle peers duplicate the requests still in flight
 * (endgame); the first answer wins. A peer that fails `maxFailures` times in a row, or sends a bad chunk,
 * is dropped and its chunks go back in the queue. Resolves with the chunks that no peer could supply.
 */
export async function scheduleChunks(
  wanted: Map<string, Uint8Array>,
  peers: readonly PeerSource[],
  options: SchedulerOptions,
  onChunk: (hash: Uint8Array, data: ByteParts, peer: PeerSource, key: string) => Promise<void>,
  onPeerDropped?: (peer: PeerSource, err: unknown) => void,
  availability?: Availability,
): Promise<Map<string, Uint8Array>> {
  // Each pull starts at its own place in the blob (BitTorrent's random first piece): nodes that pull the
  // same blob at once then take different chunks from a seeder, and trade the rest among themselves.
  const keys = [...wanted.keys()]
  const start = Math.min(keys.length, Math.floor((options.startAt ?? Math.random()) * keys.length))
  const pending = new Set([...keys.slice(start), ...keys.slice(0, start)])
  const inFlight = new Map<string, number>()
  const states: PeerState[] = peers.map((source) => ({
    source,
    inFlight: 0,
    window: options.window,
    failures: 0,
    dead: false,
    missing: new Set(),
    asked: new Set(),
    failedAt: -Infinity,
    view: null,
    leftToOwnersAt: -Infinity,
  }))
  let running = 0
  const maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT
  /** onChunk calls not yet returned. */
  let placing = 0
  let lastProgress = Date.now()
  let wake: () => void = () => {}
  availability?.onChange((peerId, gained) => {
    const view = states.find((p) => p.source.id === peerId)?.view
    if (view instanceof Set) for (const key of gained) if (wanted.has(key)) view.add(key)
    wake()
  })
  // Chunks of shares other nodes pulling the blob fetch are left to them, until this node has sat idle
  // for them longer than it was busy itself (plus OWNER_WAIT_MS): a slow owner then no longer holds it back.
  let sharing = availability?.leaveToOwner !== undefined
  let ownerWaitMs = 0
  let busyMs = 0
  /** Chunks this pull got from peers that are not pulling the blob themselves (seeders). */
  let fromSeeders = 0
  let allAsked = false
  let nearlyAllAsked = false
  /** A failure of ours (disk full, say), not the peer's: it ends the whole pull. */
  let fatal: { error: unknown } | null = null

  const holds = (peer: PeerState, key: string): boolean => {
    const known = availability?.has(peer.source.id, key) ?? null
    if (known === true) peer.missing.delete(key)
    return known !== false && !peer.missing.has(key)
  }
  const rarity = (key: string): number => states.filter((p) => !p.dead && holds(p, key)).length

  const viewOf = (peer: PeerState): Set<string> | 'all' => {
    if (peer.view !== null) return peer.view
    const first = pending.values().next().value
    if (availability === undefined || first === undefined || availability.has(peer.source.id, first) === null)
      return (peer.view = 'all')
    const held = [...pending].filter((key) => holds(peer, key))
    peer.view = held.length === pending.size ? 'all' : new Set(held)
    return peer.view
  }
  /** A chunk goes back in the queue (its request failed, or the peer lacked it). */
  const requeue = (key: string): void => {
    pending.add(key)
    for (const p of states) p.leftToOwnersAt = -Infinity
    for (const p of states) if (p.view instanceof Set && holds(p, key)) p.view.add(key)
  }

  const pick = (peer: PeerState): string[] => {
    // Rarity orders nothing while fewer than two peers are alive, or when every live peer holds every
    // chunk still pending (seeders): then take the first chunks the peer holds. Otherwise rank a window of
    // the next chunks it holds, not every pending chunk of the blob for each batch (a 1 GiB blob has
    // 16 000 chunks, times the peers, times 500 batches).
    const live = states.filter((p) => !p.dead)
    const ranked = availability !== undefined && live.length > 1 && live.some((p) => viewOf(p) !== 'all')
    const limit = ranked ? options.batchSize * RANK_WINDOW : options.batchSize
    let candidates: string[] = []
    let leftToOwners = 0
    const view = viewOf(peer)
    for (const key of view === 'all' ? pending : view) {
      if (view !== 'all' && !pending.has(key)) {
        view.delete(key) // taken meanwhile; requeue() puts it back if it returns
        continue
      }
      if (!holds(peer, key)) continue
      if (sharing && availability?.leaveToOwner?.(peer.source.id, key) === true) {
        leftToOwners++
        continue
      }
      candidates.push(key)
      if (candidates.length === limit) break
    }
    if (ranked && candidates.length > options.batchSize) {
      const r = new Map(candidates.map((k) => [k, rarity(k)]))
      candidates = candidates.sort((a, b) => (r.get(a) as number) - (r.get(b) as number))
    }
    const batch = candidates.slice(0, options.batchSize)
    if (batch.length === 0 && leftToOwners > 0) peer.leftToOwnersAt = performance.now()
    if (batch.length === 0 && pending.size === 0) {
      // Endgame: ask for what others are still fetching, once more each. A key can stay in flight after
      // its chunk came in (the other request of a pair is still out): it is no longer wanted.
      for (const [key, n] of inFlight) {
        if (n < 2 && wanted.has(key) && !peer.asked.has(key) && holds(peer, key)) batch.push(key)
        if (batch.length === options.batchSize) break
      }
    }
    for (const key of batch) {
      pending.delete(key)
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1)
      peer.asked.add(key)
    }
    return batch
  }

  const settle = (peer: PeerState, key: string): void => {
    peer.asked.delete(key)
    const n = (inFlight.get(key) ?? 1) - 1
    if (n <= 0) inFlight.delete(key)
    else inFlight.set(key, n)
  }

  /** Requests still running when every chunk is in: endgame losers, cancelled on the way out. */
  const losers = new AbortController()
  const batchSignal =
    options.signal === undefined ? losers.signal : AbortSignal.any([options.signal, losers.signal])

  const verify = options.verify ?? true
  const run = async (peer: PeerState, batch: string[]): Promise<void> => {
    const unanswered = new Set(batch)
    const started = performance.now()
    try {
      const hashes = batch.map((k) => wanted.get(k) as Uint8Array)
      let next = 0
      for await (const reply of peer.source.fetchChunks(hashes, { signal: batchSignal, verify })) {
        // Replies come in request order with the hashes asked: the key is then known without hex-encoding.
        const key = reply.hash === hashes[next] ? batch[next] : hashToHex(reply.hash)
        next++
        if (!unanswered.delete(key)) continue
        settle(peer, key)
        if ('missing' in reply) {
          peer.missing.add(key)
          if (wanted.has(key) && !inFlight.has(key)) requeue(key)
          continue
        }
        if (!wanted.has(key)) continue // an endgame duplicate that lost the race
        wanted.delete(key)
        lastProgress = Date.now()
        if (availability?.isCoLeecher?.(peer.source.id) !== true) fromSeeders++
        placing++
        try {
          await onChunk(reply.hash, reply.data, peer.source, key)
        } catch (err) {
          fatal ??= { error: err }
          return
        } finally {
          placing--
          // The loop waits on chunks only for the last ones to be placed, or to give up on a failure; a wake-up
          // per chunk (16,384 per GiB) was ~0.1 CPU-s per GiB of it scanning the peers for nothing to do.
          if (wanted.size === 0 || fatal !== null) wake()
        }
      }
      peer.failures = 0
      const ms = performance.now() - started
      const max = options.maxWindow ?? MAX_WINDOW
      if (ms < FAST_BATCH_MS && peer.window < max) peer.window++
      else if (ms > SLOW_BATCH_MS && peer.window > 1) peer.window--
    } catch (err) {
      if (batchSignal.aborted) return
      // The batches in flight when a connection drops all fail at once: that is one failure, not a window's
      // worth. The next batch redials; a peer that is really gone fails it again.
      if (started < peer.failedAt && (err as Error).name !== 'BadChunkError') return
      peer.failures++
      peer.failedAt = performance.now()
      const fatalForPeer = peer.failures >= options.maxFailures || (err as Error).name === 'BadChunkError'
      if (fatalForPeer && !peer.dead) {
        peer.dead = true
        onPeerDropped?.(peer.source, err)
      }
    } finally {
      for (const key of unanswered) {
        settle(peer, key)
        if (wanted.has(key) && !inFlight.has(key)) requeue(key)
      }
    }
  }

  for (;;) {
    if (fatal !== null) {
      while (running > 0) await new Promise<void>((resolve) => (wake = resolve))
      throw (fatal as { error: unknown }).error
    }
    options.signal?.throwIfAborted()
    if (wanted.size === 0) {
      // Every chunk is claimed, but the last ones may still be on their way to disk: the caller treats
      // the blob as complete once this returns.
      while (placing > 0) await new Promise<void>((resolve) => (wake = resolve))
      if (fatal === null) break
      continue
    }
    let retryIn = Infinity
    const ready = states.filter((peer) => {
      if (peer.dead) return false
      // After a failure, a peer gets a moment (longer each time) before it is asked again.
      const pause =
        peer.failures === 0 ? 0 : peer.failedAt + RETRY_PAUSE_MS * peer.failures - performance.now()
      if (pause > 0) retryIn = Math.min(retryIn, pause)
      // A peer whose every chunk we want is left to other nodes is not scanned on each wake-up.
      const rescan = sharing ? peer.leftToOwnersAt + OWNERS_RESCAN_MS - performance.now() : 0
      if (rescan > 0) retryIn = Math.min(retryIn, rescan)
      return pause <= 0 && rescan <= 0
    })
    // Free slots go to the peer with the fewest batches out, so under the global limit each peer gets its
    // share (its own window still bounds it).
    while (running < maxInFlight) {
      let peer: PeerState | undefined
      for (const p of ready)
        if (p.inFlight < p.window && (peer === undefined || p.inFlight < peer.inFlight)) peer = p
      if (peer === undefined) break
      const batch = pick(peer)
      if (batch.length === 0) {
        ready.splice(ready.indexOf(peer), 1)
        continue
      }
      const asked = peer
      asked.inFlight++
      running++
      void run(asked, batch).finally(() => {
        asked.inFlight--
        running--
        wake()
      })
    }
    if (!nearlyAllAsked && pending.size <= options.batchSize * NEARLY_ALL_BATCHES) {
      nearlyAllAsked = true
      options.onNearlyAllAsked?.()
    }
    if (pending.size === 0 && running > 0 && !allAsked) {
      allAsked = true
      options.onAllAsked?.()
    }
    const pausedPeer = retryIn !== Infinity
    const forOwners = running === 0 && sharing && waitingForOwners(pending, availability)
    const waiting = running === 0 && (waitingForHaves(states, pending, availability) || forOwners)
    if (running === 0 && !pausedPeer && (!waiting || Date.now() - lastProgress > HAVE_WAIT_MS)) break
    const waitFrom = performance.now()
    const busy = running > 0
    await new Promise<void>((resolve) => {
      wake = resolve
      // While only waiting for have-maps to grow, look again now and then; a paused peer, when it may go on.
      if (waiting) setTimeout(resolve, forOwners ? 250 : 1000).unref()
      if (pausedPeer) setTimeout(resolve, retryIn).unref()
    })
    if (busy) busyMs += performance.now() - waitFrom
    else if (forOwners) {
      // A node that got nothing from seeders itself (it owns no share left) has no pace to compare with:
      // its owners then get OWNER_WAIT_MS, whatever their pace.
      const ownPace = fromSeeders > 0 && busyMs > 0 ? (fromSeeders / busyMs) * 1000 : Infinity
      if ((availability?.coLeechersGainRate?.() ?? 0) * 2 < ownPace)
        ownerWaitMs += performance.now() - waitFrom
      if (ownerWaitMs > OWNER_WAIT_MS + busyMs) sharing = false
    }
  }
  losers.abort(new Error('every chunk is in'))
  return wanted
}

/**
 * Nothing is in flight, yet some live peer may still get a chunk we want (a peer still downloading):
 * keep waiting for its have-map to grow. Without have-maps, there is nothing to wait for.
 */
function waitingForHaves(states: PeerState[], pending: Set<string>, availability?: Availability): boolean {
  if (availability === undefined || pending.size === 0) return false
  const first = pending.values().next().value as string
  return states.some(
    (p) => !p.dead && availability.mayGain(p.source.id) && availability.has(p.source.id, first) === false,
  )
}

/** Nothing is in flight, and chunks still wanted are left to the nodes that own their shares. */
function waitingForOwners(pending: Set<string>, availability?: Availability): boolean {
  if (availability?.ownerOf === undefined) return false
  for (const key of pending) if (availability.ownerOf(key) !== null) return true
  return false
}
