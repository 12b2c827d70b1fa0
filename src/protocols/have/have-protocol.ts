import { validateEtag } from '../../store/hf-cache/index.ts'
import { MESSAGE_TIMEOUT } from '../wire/constants.ts'
import { BusyError, NotFoundError } from '../wire/errors.ts'
import { FramedStream } from '../wire/framed-stream.ts'
import { ProtocolService } from '../wire/protocol-service.ts'
import { bitfieldBytes } from './bitfield.ts'
import {
  HAVE_PROTOCOL,
  MAX_HAVE_CHUNKS,
  MAX_INBOUND_STREAMS,
  MAX_IN_FLIGHT_PER_PEER,
  MAX_IN_FLIGHT_TOTAL,
  MAX_OUTBOUND_STREAMS,
  MAX_REQUEST_BYTES,
  MAX_SUBSCRIPTIONS_PER_PEER,
  MAX_UPDATE_INDICES,
} from './constants.ts'
import { HaveFeed } from './have-feed.ts'
import { HaveSubscription } from './have-subscription.ts'
import { decodeAnswer, decodeRequest, encodeAnswer, encodeRequest } from './messages.ts'
import type { HaveProtocol, HaveProtocolInit } from './index.ts'
import type { ProtocolComponents } from '../wire/components.ts'
import type { AbortOptions, Connection, DialTarget, Stream } from '@libp2p/interface'

// Room in a frame for the CBOR around a bitmap, or for an update of MAX_UPDATE_INDICES indices.
const FRAME_SLACK = 64
const MAX_UPDATE_BYTES = MAX_UPDATE_INDICES * 9 + FRAME_SLACK

export class DefaultHaveProtocol extends ProtocolService implements HaveProtocol {
  private readonly source: HaveProtocolInit['haves']
  private readonly messageTimeout: number
  private readonly maxChunks: number
  private readonly maxSubscriptionsPerPeer: number
  private readonly feeds = new Set<HaveFeed>()
  private readonly subscriptionsByPeer = new Map<string, number>()

  constructor(components: ProtocolComponents, init: HaveProtocolInit) {
    super(components, {
      protocol: HAVE_PROTOCOL,
      component: 'hffs:have',
      maxInboundStreams: init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      maxOutboundStreams: init.maxOutboundStreams ?? MAX_OUTBOUND_STREAMS,
      runOnLimitedConnection: init.runOnLimitedConnection,
      maxInFlightPerPeer: MAX_IN_FLIGHT_PER_PEER,
      maxInFlightTotal: MAX_IN_FLIGHT_TOTAL,
      requestLimits: init.requestLimits,
      bans: init.bans,
    })
    this.source = init.haves
    this.messageTimeout = init.messageTimeout ?? MESSAGE_TIMEOUT
    this.maxChunks = init.maxChunks ?? MAX_HAVE_CHUNKS
    this.maxSubscriptionsPerPeer = init.maxSubscriptionsPerPeer ?? MAX_SUBSCRIPTIONS_PER_PEER
  }

  /** Also ends every subscription being served: their clients get `end`. */
  override async stop(): Promise<void> {
    await super.stop()
    for (const feed of this.feeds) feed.end()
  }

  /** Subscriptions this node is serving right now. */
  get servingCount(): number {
    return this.feeds.size
  }

  async subscribeHave(peer: DialTarget, etag: string, options: AbortOptions = {}): Promise<HaveSubscription> {
    validateEtag(etag)
    const { signal } = options
    const { stream, remotePeer } = await this.openStream(peer, signal)
    const maxMessageBytes = Math.max(bitfieldBytes(this.maxChunks) + FRAME_SLACK, MAX_UPDATE_BYTES)
    const framed = new FramedStream(stream, {
      maxMessageBytes,
      maxBufferedBytes: 2 * maxMessageBytes,
      messageTimeout: this.messageTimeout,
    })
    try {
      await framed.write(encodeRequest(etag), { signal })
      const answer = decodeAnswer(await framed.read({ signal }), this.maxChunks)
      if (answer.type === 'not-found') throw new NotFoundError(`${remotePeer} has no chunks of ${etag}`)
      if (answer.type === 'busy')
        throw new BusyError(`${remotePeer} serves no more subscriptions to us for now`)
      return new HaveSubscription(framed, remotePeer, etag, answer.haveMap, signal)
    } catch (err) {
      framed.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  protected async handleStream(stream: Stream, connection: Connection): Promise<void> {
    const framed = new FramedStream(stream, {
      maxMessageBytes: MAX_REQUEST_BYTES,
      messageTimeout: this.messageTimeout,
    })
    const etag = decodeRequest(await framed.read())
    const peer = connection.remotePeer.toString()
    const held = this.subscriptionsByPeer.get(peer) ?? 0
    if (held >= this.maxSubscriptionsPerPeer) {
      this.log('refusing a have subscription from %p: it holds %d', connection.remotePeer, held)
      await framed.write(encodeAnswer({ type: 'busy' }))
      await framed.close()
      return
    }
    const feed = new HaveFeed(framed, etag, this.source, MAX_UPDATE_INDICES)
    this.subscriptionsByPeer.set(peer, held + 1)
    this.feeds.add(feed)
    try {
      await feed.run()
    } finally {
      this.feeds.delete(feed)
      const left = (this.subscriptionsByPeer.get(peer) ?? 1) - 1
      if (left > 0) this.subscriptionsByPeer.set(peer, left)
      else this.subscriptionsByPeer.delete(peer)
    }
  }
}
