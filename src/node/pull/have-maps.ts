import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Availability } from './availability.ts'
import type { PeerHaves, PeerSource } from './peer-source.ts'

/** Chunks per share of the blob that one of the nodes pulling it at once fetches from elsewhere. */
export const SHARE_CHUNKS = 32
/** A co-leecher whose have-map has not grown for this long no longer holds its shares. */
const SHARE_LAPSE_MS = 5000
/** The window over which coLeechersGainRate counts. */
const GAIN_RATE_MS = 2000
/** Gain records kept at most (a map that grows chunk by chunk, fast, keeps the newest). */
const MAX_GAINS = 4096
/** How often the set of co-leechers is worked out again. */
const COLEECHERS_MS = 100
/** How long a big blob's pull waits for connected peers that may be beginning it too; and their answer. */
const SETTLE_MS = 200
const SETTLE_ASK_MS = 1000
/** Blobs of at least this many shares wait for them (smaller ones are over before it would pay). */
const SETTLE_MIN_SHARES = 4
/** How long the first subscription to a peer's have-map may take before the pull goes on without it. */
const SUBSCRIBE_MS = 5000
/** A peer that has not begun the blob is asked again after these waits (the last one repeats). */
const RESUBSCRIBE_MS = [250, 500, 1000, 2000, 4000, 8000]

/**
 * The have-maps of the peers a blob is pulled from, as the scheduler's Availability. Three kinds of peer:
 * - subscribed: its map, kept up to date while it downloads;
 * - not begun: it speaks the have protocol but holds no chunk of the blob yet. It is not asked for chunks
 *   (a blind ask would only be answered "missing", and those chunks were never asked of it again), and it
 *   is asked for its map again and again (with a growing wait) until it begins: then its chunks count. A
 *   site whose nodes start the same pull a moment apart thus shares over its LAN from the first chunk.
 * - unknown: no have protocol, or no answer in time; it is asked blindly.
 *
 * Nodes pulling the same blob at once (co-leechers: their maps are incomplete and growing) split it into
 * shares of SHARE_CHUNKS chunks, each share owned by one of them (rendezvous hashing of peer id and share,
 * so each computes the same owners). A share is fetched from elsewhere (a seeder across a relay, say) only
 * by its owner; the others take it from the owner once it has it. Without this they all asked the seeder
 * for the same chunks at about the same time, and a site pulled a model across its WAN link 1.6-2x. An
 * owner whose map stops growing for SHARE_LAPSE_MS loses its shares.
 */
export class HaveMaps implements Availability {
  private readonly maps = new Map<string, PeerHaves>()
  private readonly notBegun = new Set<string>()
  private readonly keyAt: readonly string[]
  private readonly occurrences: ReadonlyMap<string, readonly number[]>
  private readonly lifetime = new AbortController()
  /** Chunks each subscribed peer holds, and when its map last grew. */
  private readonly held = new Map<string, { count: number; grewAt: number }>()
  private readonly self: string | undefined
  /** Owner of each share, for the co-leechers named by ownersKey. */
  private readonly shareOwners = new Map<number, string>()
  private ownersKey = ''
  private coLeecherSet: ReadonlySet<string> = new Set()
  private coLeechersAt = -Infinity
  private wake: (peerId: string, keys: readonly string[]) => void = () => {}
  /** What the followed maps gained lately (Date.now(), peer, chunks), oldest first. */
  private gains: { at: number; peerId: string; count: number }[] = []

  private constructor(
    keyAt: readonly string[],
    occurrences: ReadonlyMap<string, readonly number[]>,
    self: string | undefined,
  ) {
    this.keyAt = keyAt
    this.occurrences = occurrences
    this.self = self
  }

  /**
   * Subscribes to every peer's have-map for the blob (a bounded wait); peers that have not begun it are
   * followed until they do, or until `close()`.
   */
  static async subscribe(
    peers: readonly PeerSource[],
    etag: string,
    keyAt: readonly string[],
    occurrences: ReadonlyMap<string, readonly number[]>,
    options: { self?: string; signal?: AbortSignal } = {},
  ): Promise<HaveMaps> {
    const { signal } = options
    const maps = new HaveMaps(keyAt, occurrences, options.self)
    const until =
      signal === undefined ? maps.lifetime.signal : AbortSignal.any([signal, maps.lifetime.signal])
    let late: PeerSource[] = []
    const first = async (peer: PeerSource, ms: number): Promise<void> => {
      const answer = await maps.ask(peer, etag, until, ms)
      if (answer === 'none') late.push(peer)
      else if (answer !== null) maps.follow(peer.id, answer)
    }
    await Promise.all(peers.map((peer) => first(peer, SUBSCRIBE_MS)))
    // Nodes told to pull a blob at the same moment begin it a little apart (each first gets the manifest):
    // a big blob waits a moment for them, so that the shares are split before the first requests go out.
    if (late.length > 0 && options.self !== undefined && keyAt.length >= SETTLE_MIN_SHARES * SHARE_CHUNKS) {
      await sleep(SETTLE_MS, undefined, { signal: until }).catch(() => {})
      const again = late
      late = []
      await Promise.all(again.map((peer) => first(peer, SETTLE_ASK_MS)))
    }
    for (const peer of late) {
      maps.notBegun.add(peer.id)
      void maps.awaitBeginning(peer, etag, until)
    }
    return maps
  }

  /** Whether any peer can say what it holds (else the scheduler asks every peer blindly). */
  get any(): boolean {
    return this.maps.size > 0 || this.notBegun.size > 0
  }

  has(peerId: string, key: string): boolean | null {
    const map = this.maps.get(peerId)
    if (map === undefined) return this.notBegun.has(peerId) ? false : null
    return (this.occurrences.get(key) ?? []).some((i) => map.has(i))
  }

  mayGain(peerId: string): boolean {
    return this.maps.has(peerId)
  }

  onChange(wake: (peerId: string, keys: readonly string[]) => void): void {
    this.wake = wake
  }

  /**
   * The co-leecher expected to fetch this chunk's share, when that is not this node; null when this node
   * should fetch it (its own share, or no co-leechers, or this node's id unknown).
   */
  ownerOf(key: string): string | null {
    if (this.self === undefined) return null
    const owners = this.coLeechers()
    if (owners.size === 0) return null
    const share = Math.floor((this.occurrences.get(key)?.[0] ?? 0) / SHARE_CHUNKS)
    let owner = this.shareOwners.get(share)
    if (owner === undefined) {
      owner = this.self
      let lowest = shareScore(this.self, share)
      for (const peerId of owners) {
        const score = shareScore(peerId, share)
        if (score < lowest) {
          owner = peerId
          lowest = score
        }
      }
      this.shareOwners.set(share, owner)
    }
    return owner === this.self ? null : owner
  }

  /** Whether to leave this chunk to the co-leecher that owns its share rather than ask `peerId` for it. */
  leaveToOwner(peerId: string, key: string): boolean {
    return this.ownerOf(key) !== null && !this.coLeechers().has(peerId)
  }

  /**
   * Peers pulling the blob now (an incomplete have-map that grew lately), looked at again every
   * COLEECHERS_MS: the scheduler asks for each chunk it considers.
   */
  private coLeechers(): ReadonlySet<string> {
    const now = Date.now()
    if (now - this.coLeechersAt < COLEECHERS_MS) return this.coLeecherSet
    this.coLeechersAt = now
    const set = new Set<string>()
    for (const [peerId, h] of this.held)
      if (h.count < this.keyAt.length && now - h.grewAt < SHARE_LAPSE_MS) set.add(peerId)
    const key = [...set].join(' ')
    if (key !== this.ownersKey) {
      this.ownersKey = key
      this.shareOwners.clear()
    }
    this.coLeecherSet = set
    return set
  }

  isCoLeecher(peerId: string): boolean {
    return this.coLeechers().has(peerId)
  }

  /** Chunks per second that the co-leechers' maps gained together over the last GAIN_RATE_MS. */
  coLeechersGainRate(): number {
    const since = Date.now() - GAIN_RATE_MS
    let drop = 0
    while (drop < this.gains.length && this.gains[drop].at < since) drop++
    if (drop > 0) this.gains = this.gains.slice(drop)
    const owners = this.coLeechers()
    let count = 0
    for (const g of this.gains) if (owners.has(g.peerId)) count += g.count
    return (count * 1000) / GAIN_RATE_MS
  }

  /** Ends every subscription and stops waiting for peers to begin. */
  close(): void {
    this.lifetime.abort(new Error('the pull is over'))
    for (const map of this.maps.values()) map.close()
  }

  private async ask(
    peer: PeerSource,
    etag: string,
    until: AbortSignal,
    ms: number,
  ): Promise<PeerHaves | 'none' | null> {
    if (peer.subscribeHave === undefined) return null
    // The signal given to the subscription cancels it for good, so the wait for its first answer has
    // its own timer.
    const timer = new AbortController()
    const timeout = setTimeout(() => timer.abort(new Error('no have-map in time')), ms)
    try {
      return await peer.subscribeHave(etag, { signal: AbortSignal.any([until, timer.signal]) })
    } catch {
      return null
    } finally {
      clearTimeout(timeout)
    }
  }

  private async awaitBeginning(peer: PeerSource, etag: string, until: AbortSignal): Promise<void> {
    for (let attempt = 0; !until.aborted; attempt++) {
      await sleep(RESUBSCRIBE_MS[Math.min(attempt, RESUBSCRIBE_MS.length - 1)], undefined, {
        signal: until,
      }).catch(() => {})
      if (until.aborted) return
      // No answer (the connection is down, say) counts as not begun: its chunk requests would fail too.
      const answer = await this.ask(peer, etag, until, SUBSCRIBE_MS)
      if (answer === 'none' || answer === null) continue
      if (until.aborted) {
        answer.close()
        return
      }
      this.notBegun.delete(peer.id)
      this.follow(peer.id, answer)
      const held = this.keyAt.filter((_, i) => answer.has(i))
      this.wake(peer.id, held)
      return
    }
  }

  private follow(peerId: string, map: PeerHaves): void {
    this.maps.set(peerId, map)
    let count = 0
    for (let i = 0; i < this.keyAt.length; i++) if (map.has(i)) count++
    const held = { count, grewAt: Date.now() }
    this.held.set(peerId, held)
    void (async () => {
      for await (const indices of map.updates) {
        held.count += indices.length
        held.grewAt = Date.now()
        this.gains.push({ at: held.grewAt, peerId, count: indices.length })
        if (this.gains.length > MAX_GAINS) this.gains = this.gains.slice(-MAX_GAINS / 2)
        this.wake(
          peerId,
          indices.filter((i) => i >= 0 && i < this.keyAt.length).map((i) => this.keyAt[i]),
        )
      }
    })().catch(() => {})
  }
}

/**
 * Rendezvous score of a peer for a share: the lowest owns it. The first 6 bytes of SHA-256 over the peer id
 * and the share number: the same on every node, and well mixed. (FNV-1a was not: the peer id decided the
 * order before the share number could change it, so that of peers "x", "y" and "z" x owned every share,
 * and of four real peer ids one owned 5% of a blob's shares and another 35%.)
 */
export function shareScore(peerId: string, share: number): number {
  return createHash('sha256').update(`${peerId}/${share}`).digest().readUIntBE(0, 6)
}
