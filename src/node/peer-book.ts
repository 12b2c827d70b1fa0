import type { Connection, PeerDiscoveryProvider, PeerId, PeerInfo } from '@libp2p/interface'
import { peerDiscoverySymbol } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { DIAL_TIMEOUT_MS } from './constants.ts'
import { DiscoveryDialer } from './discovery-dialer.ts'
import { KnownPeers, type PeerSource } from './known-peers.ts'
import { LatencyMonitor } from './latency-monitor.ts'
import type { HffsLibp2p } from './libp2p-node.ts'
import { errorMessage, type Logger } from './logger.ts'
import { readManualPeers, writeManualPeers, type ManualPeer } from './manual-peers.ts'
import { matchesPeer, parsePeerAddress, peerIdOf, withoutPeerId } from './peer-address.ts'
import { PeerRedialer } from './peer-redialer.ts'
import type { PeerTrust, TrustReason } from './trust.ts'

export type { PeerSource }

/** One line of `peer ls`. */
export interface PeerEntry {
  peerId: string
  addresses: string[]
  sources: PeerSource[]
  connected: boolean
  /** Last libp2p ping round trip in ms; null before the first answer or after a failed ping. */
  latencyMs: number | null
  lastSeen: string | null
  /** Why this node trusts the peer (swarm key, or `peer add --trust`); null: not trusted. */
  trust: TrustReason | null
}

export interface AddPeerResult {
  peer: ManualPeer
  connected: boolean
  latencyMs: number | null
  /** Why the first dial failed; the peer is kept and redialled. */
  error?: string
}

export class PeerNotFoundError extends Error {
  override name = 'PeerNotFoundError'
}

export class PeerDialError extends Error {
  override name = 'PeerDialError'
}

/** Tag that keeps manual and bootstrap peers from being pruned by the connection manager. */
const KEEP_TAG = 'hffs-kept'

export interface PeerBookInit {
  node: HffsLibp2p
  home: string
  /** Bootstrap multiaddrs from the config; dialled at start and kept connected like manual peers. */
  bootstrap: readonly string[]
  /** Told which manual peers the user trusts; absent: none is. */
  trust?: PeerTrust
  logger: Logger
  /** Passed to the redialer; tests shorten them. */
  redialMinMs?: number
  redialMaxMs?: number
}

/**
 * The peers this node knows: manual ones (persisted in `peers.json`), bootstrap ones, those mDNS or the DHT
 * found, and those that connected to us; with their latency. Manual and bootstrap peers are kept connected.
 */
export class PeerBook {
  private readonly init: PeerBookInit
  private readonly node: HffsLibp2p
  private readonly log: Logger
  private manual: ManualPeer[]
  private readonly known: KnownPeers
  /** Bootstrap addresses by peer id once known (the config may name only an address). */
  private readonly bootstrapIds = new Map<string, Multiaddr>()
  private readonly redialer: PeerRedialer
  private readonly latency: LatencyMonitor
  private readonly discovery: DiscoveryDialer
  private readonly listeners: [EventTarget, string, (evt: Event) => void][] = []
  private started = false

  private constructor(init: PeerBookInit, manual: ManualPeer[]) {
    this.init = init
    this.node = init.node
    this.log = init.logger
    this.manual = manual
    for (const p of manual) if (p.trusted === true) init.trust?.setTrusted(p.peerId, true)
    this.known = new KnownPeers((id) => this.isConnected(id))
    this.redialer = new PeerRedialer({
      dial: (addr, signal) => this.node.dial(addr, { signal }),
      isConnected: (id) => this.isConnected(id),
      logger: this.log,
      minMs: init.redialMinMs,
      maxMs: init.redialMaxMs,
    })
    this.latency = new LatencyMonitor({
      ping: (peer, signal) => this.node.services.ping.ping(peer, { signal }),
      peers: () => this.node.getPeers(),
      onLatency: (peer, ms) => {
        const k = this.known.get(peer.toString())
        if (k !== undefined) k.latencyMs = ms
      },
      logger: this.log,
    })
    this.discovery = new DiscoveryDialer({
      self: this.node.peerId,
      dial: (peer, signal) => this.node.dial(peer, { signal }),
      isConnected: (peer) => this.node.getConnections(peer).length > 0,
      logger: this.log,
    })
  }

  /** Reads `peers.json`; call start() to begin dialling. */
  static async open(init: PeerBookInit): Promise<PeerBook> {
    return new PeerBook(init, await readManualPeers(init.home))
  }

  start(): void {
    if (this.started) return
    this.started = true
    this.listen(this.node, 'connection:open', (evt) =>
      this.onConnection((evt as CustomEvent<Connection>).detail),
    )
    this.listen(this.node, 'peer:disconnect', (evt) => this.onDisconnect((evt as CustomEvent<PeerId>).detail))
    const mdns = this.node.services.mdns
    if (mdns !== undefined)
      this.listen(mdns, 'peer', (evt) => this.onDiscovered((evt as CustomEvent<PeerInfo>).detail, 'mdns'))
    const dht = (this.node.services.dht as unknown as Partial<PeerDiscoveryProvider>)[peerDiscoverySymbol]
    if (dht !== undefined)
      this.listen(dht, 'peer', (evt) => this.onDiscovered((evt as CustomEvent<PeerInfo>).detail, 'dht'))
    this.latency.start()
    for (const p of this.manual) {
      this.known.note(p.peerId, 'manual')
      void this.keep(p.peerId, multiaddr(p.addr))
      this.redialer.schedule(p.peerId, multiaddr(p.addr), true)
    }
    for (const addr of this.init.bootstrap) {
      const ma = multiaddr(addr)
      const id = peerIdOf(ma)
      if (id !== null) this.known.note(id, 'bootstrap')
      this.redialer.schedule(id ?? ma.toString(), ma, true)
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    for (const [target, type, fn] of this.listeners) target.removeEventListener(type, fn)
    this.listeners.length = 0
    this.redialer.stop()
    this.discovery.stop()
    await this.latency.stop()
  }

  /**
   * `peer add`: dials the address; with no /p2p/ in it, a failed dial is an error, else the peer is kept.
   * `trusted`: the user vouches for the peer (`--trust`); adding it again without the flag withdraws that.
   */
  async add(input: string, port?: number, trusted = false): Promise<AddPeerResult> {
    const ma = parsePeerAddress(input, port)
    const named = peerIdOf(ma)
    if (named === this.node.peerId.toString()) throw new PeerDialError(`${input} is this node`)
    let peerId = named
    let error: string | undefined
    try {
      // Not the request's signal: libp2p keeps a dial's signal on the socket until the upgrade is done.
      const conn = await this.node.dial(ma, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      peerId = conn.remotePeer.toString()
    } catch (err) {
      if (peerId === null) throw new PeerDialError(`could not reach ${ma.toString()}: ${errorMessage(err)}`)
      error = errorMessage(err)
    }
    if (peerId === this.node.peerId.toString()) throw new PeerDialError(`${input} is this node`)
    const addr = withoutPeerId(ma).encapsulate(`/p2p/${peerId}`)
    const peer: ManualPeer = {
      addr: addr.toString(),
      peerId,
      input: port === undefined ? input : `${input}:${port}`,
      addedAt: new Date().toISOString(),
      ...(trusted ? { trusted } : {}),
    }
    this.manual = [...this.manual.filter((p) => p.peerId !== peerId), peer]
    await writeManualPeers(this.init.home, this.manual)
    this.init.trust?.setTrusted(peerId, trusted)
    this.known.note(peerId, 'manual')
    await this.keep(peerId, addr)
    if (error !== undefined) this.redialer.schedule(peerId, addr)
    this.log.info(
      `added manual peer ${peerId} at ${peer.addr}${error === undefined ? '' : ` (not reached: ${error})`}`,
    )
    const id = peerIdFromString(peerId)
    const latencyMs = error === undefined ? await this.latency.pingNow(id) : null
    return { peer, connected: this.isConnected(peerId), latencyMs, error }
  }

  /** `peer rm`: forgets the manual peers matching an IP, IP:port, multiaddr or peer id, and hangs up on them. */
  async remove(input: string): Promise<ManualPeer[]> {
    const gone = this.manual.filter((p) => matchesPeer(input, p.addr, p.peerId))
    if (gone.length === 0) throw new PeerNotFoundError(`no manual peer matches ${input}`)
    this.manual = this.manual.filter((p) => !gone.includes(p))
    await writeManualPeers(this.init.home, this.manual)
    for (const p of gone) {
      this.log.info(`removed manual peer ${p.peerId}`)
      this.init.trust?.setTrusted(p.peerId, false)
      if (this.bootstrapIds.has(p.peerId)) {
        this.known.get(p.peerId)?.sources.delete('manual') // still kept, as a bootstrap peer
        continue
      }
      this.redialer.cancel(p.peerId)
      const id = peerIdFromString(p.peerId)
      await this.node.peerStore.merge(id, { tags: { [KEEP_TAG]: undefined } }).catch(() => {})
      await this.node.hangUp(id).catch((err: unknown) => this.log.debug(`hang up: ${errorMessage(err)}`))
      this.known.drop(p.peerId, 'manual')
    }
    return gone
  }

  manualPeers(): ManualPeer[] {
    return [...this.manual]
  }

  connectedPeers(): string[] {
    return this.node.getPeers().map((p) => p.toString())
  }

  /** Every known peer, connected ones first. */
  async list(): Promise<PeerEntry[]> {
    for (const p of this.node.getPeers()) this.known.note(p.toString())
    const out: PeerEntry[] = []
    for (const [id, k] of this.known.entries()) {
      const peerId = peerIdFromString(id)
      const addrs = new Set<string>()
      for (const p of this.manual) if (p.peerId === id) addrs.add(withoutPeerId(multiaddr(p.addr)).toString())
      const conns = this.node.getConnections(peerId)
      // The far end of an inbound connection is an ephemeral port: not an address to dial.
      for (const c of conns) if (c.direction === 'outbound') addrs.add(withoutPeerId(c.remoteAddr).toString())
      try {
        for (const a of (await this.node.peerStore.get(peerId)).addresses)
          addrs.add(withoutPeerId(a.multiaddr).toString())
      } catch {
        // not in the peer store (yet): the addresses above are all we have
      }
      out.push({
        peerId: id,
        addresses: [...addrs],
        sources: k.sources.size > 0 ? [...k.sources] : conns.length > 0 ? ['dht'] : [],
        connected: conns.length > 0,
        latencyMs: k.latencyMs,
        lastSeen: k.lastSeen === 0 ? null : new Date(k.lastSeen).toISOString(),
        trust: this.init.trust?.reason(id) ?? null,
      })
    }
    return out.sort((a, b) => Number(b.connected) - Number(a.connected) || a.peerId.localeCompare(b.peerId))
  }

  private listen(target: EventTarget, type: string, fn: (evt: Event) => void): void {
    target.addEventListener(type, fn)
    this.listeners.push([target, type, fn])
  }

  private onConnection(conn: Connection): void {
    const id = conn.remotePeer.toString()
    // An outbound connection we did not ask for was made by a DHT query (see list()).
    const k = this.known.note(id, conn.direction === 'inbound' ? 'inbound' : undefined, true)
    k.lastSeen = Date.now()
    const remote = withoutPeerId(conn.remoteAddr).toString()
    const boot = this.init.bootstrap.find((a) => {
      const ma = multiaddr(a)
      return peerIdOf(ma) === id || (peerIdOf(ma) === null && withoutPeerId(ma).toString() === remote)
    })
    if (boot !== undefined && !this.bootstrapIds.has(id)) {
      this.bootstrapIds.set(id, withoutPeerId(multiaddr(boot)).encapsulate(`/p2p/${id}`))
      this.redialer.cancel(multiaddr(boot).toString())
      k.sources.add('bootstrap')
      void this.keep(id, this.bootstrapIds.get(id) as Multiaddr)
    }
    this.redialer.connected(id)
    void this.latency.pingNow(conn.remotePeer)
  }

  private onDisconnect(peer: PeerId): void {
    const id = peer.toString()
    const k = this.known.get(id)
    if (k !== undefined) k.lastSeen = Date.now()
    if (!this.started) return
    const manual = this.manual.find((p) => p.peerId === id)
    const addr = manual !== undefined ? multiaddr(manual.addr) : this.bootstrapIds.get(id)
    if (addr === undefined) return
    this.log.info(`kept peer ${id} disconnected; redialling`)
    this.redialer.schedule(id, addr)
  }

  private onDiscovered(info: PeerInfo, source: 'mdns' | 'dht'): void {
    if (info.id.equals(this.node.peerId)) return
    this.known.note(info.id.toString(), source).lastSeen = Date.now()
    if (source === 'mdns') this.discovery.discovered(info.id)
  }

  private async keep(id: string, addr: Multiaddr): Promise<void> {
    const peerId = peerIdFromString(id)
    await this.node.peerStore
      .merge(peerId, { multiaddrs: [withoutPeerId(addr)], tags: { [KEEP_TAG]: { value: 50 } } })
      .catch((err: unknown) => this.log.debug(`peer store: ${errorMessage(err)}`))
  }

  private isConnected(key: string): boolean {
    try {
      return this.node.getConnections(peerIdFromString(key)).length > 0
    } catch {
      // a bootstrap address without a peer id
      return this.node.getConnections().some((c) => withoutPeerId(c.remoteAddr).toString() === key)
    }
  }
}
