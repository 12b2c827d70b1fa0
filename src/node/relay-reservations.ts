import type {
  ComponentLogger,
  IdentifyResult,
  Libp2pEvents,
  Logger,
  Startable,
  TypedEventTarget,
} from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { RELAY_CHECK_MS, RELAY_RETRY_MAX_MS, RELAY_RETRY_MIN_MS } from './relay-constants.ts'

export interface RelayReservationsInit {
  /** Relay multiaddrs, each ending in /p2p/<relay peer id> (node-config checks it). */
  relays: readonly string[]
  /** How often reservations are checked; default RELAY_CHECK_MS (2 s). */
  checkMs?: number
  /** First wait after a failed reservation, doubled up to retryMaxMs; defaults 1 s and 30 s. */
  retryMinMs?: number
  retryMaxMs?: number
}

/** The part of libp2p's transport manager this uses: listening on `<relay>/p2p-circuit` makes a reservation. */
interface CircuitListening {
  listen(addrs: Multiaddr[]): Promise<void>
  getAddrs(): Multiaddr[]
}

export interface RelayReservationsComponents {
  transportManager: CircuitListening
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

interface RelayState {
  peerId: string
  circuit: Multiaddr
  nextAttempt: number
  backoffMs: number
  attempt: Promise<void> | null
}

/**
 * Holds a reservation on every configured relay, and makes it again whenever it is lost. libp2p makes a
 * configured relay's reservation once, when it starts listening: a relay down at that moment fails the
 * start, and one that restarts later is never reserved again. So the circuit addresses are not libp2p listen
 * addresses; this service listens on each after start, checks every few seconds (and as soon as the relay
 * is identified again) that the reservation still stands, and retries with a backoff.
 */
export class RelayReservations implements Startable {
  private readonly components: RelayReservationsComponents
  private readonly init: RelayReservationsInit
  private readonly log: Logger
  private readonly relays: RelayState[]
  private timer: NodeJS.Timeout | null = null
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const relay = this.relays.find((r) => r.peerId === evt.detail.peerId.toString())
    if (relay === undefined) return
    relay.nextAttempt = 0
    this.ensure(relay)
  }

  constructor(components: RelayReservationsComponents, init: RelayReservationsInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('hffs:relay')
    this.relays = init.relays.map((addr) => {
      const ma = multiaddr(addr)
      return {
        peerId: ma.getComponents().at(-1)?.value ?? '',
        circuit: ma.encapsulate('/p2p-circuit'),
        nextAttempt: 0,
        backoffMs: init.retryMinMs ?? RELAY_RETRY_MIN_MS,
        attempt: null,
      }
    })
  }

  start(): void {}

  afterStart(): void {
    if (this.timer !== null) return
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.timer = setInterval(() => this.ensureAll(), this.init.checkMs ?? RELAY_CHECK_MS)
    this.timer.unref()
    this.ensureAll()
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    await Promise.all(this.relays.map((r) => r.attempt))
  }

  /** Peer ids of the relays this node holds a reservation on now. */
  reservedOn(): string[] {
    const addrs = this.components.transportManager.getAddrs().map((a) => a.toString())
    return this.relays.filter((r) => this.reserved(r, addrs)).map((r) => r.peerId)
  }

  private reserved(relay: RelayState, addrs: string[]): boolean {
    return addrs.some((a) => a.includes(`/p2p/${relay.peerId}/p2p-circuit`))
  }

  private ensureAll(): void {
    for (const relay of this.relays) this.ensure(relay)
  }

  private ensure(relay: RelayState): void {
    if (this.timer === null || relay.attempt !== null) return
    const addrs = this.components.transportManager.getAddrs().map((a) => a.toString())
    if (this.reserved(relay, addrs)) {
      relay.backoffMs = this.init.retryMinMs ?? RELAY_RETRY_MIN_MS
      return
    }
    if (Date.now() < relay.nextAttempt) return
    relay.attempt = this.components.transportManager
      .listen([relay.circuit])
      .then(
        () => {
          this.log('reservation on relay %s', relay.peerId)
          relay.backoffMs = this.init.retryMinMs ?? RELAY_RETRY_MIN_MS
        },
        (err: unknown) => {
          this.log('no reservation on relay %s yet (retry in %d ms): %s', relay.peerId, relay.backoffMs, err)
          relay.nextAttempt = Date.now() + relay.backoffMs
          relay.backoffMs = Math.min(relay.backoffMs * 2, this.init.retryMaxMs ?? RELAY_RETRY_MAX_MS)
        },
      )
      .finally(() => {
        relay.attempt = null
      })
  }
}

/** The service factory: `relayReservations({ relays })` in libp2p's services. */
export function relayReservations(
  init: RelayReservationsInit,
): (components: RelayReservationsComponents) => RelayReservations {
  return (components) => new RelayReservations(components, init)
}
