import { validateEtag } from '../../store/hf-cache/index.ts'
import { MESSAGE_TIMEOUT } from '../wire/constants.ts'
import { encodeMessage, Message } from '../wire/message.ts'
import { FramedStream } from '../wire/framed-stream.ts'
import { ProtocolService } from '../wire/protocol-service.ts'
import { ProtocolError } from '../wire/errors.ts'
import { INTENT_PROTOCOL, type IntentProtocol, type IntentProtocolInit, type IntentState } from './index.ts'
import type { ProtocolComponents } from '../wire/components.ts'
import type { AbortOptions, Connection, DialTarget, Stream } from '@libp2p/interface'

const STATES: readonly IntentState[] = ['none', 'wanting', 'fetching', 'have']
/** An intent message is an etag and a state word in CBOR: ~100 bytes. */
const MAX_MESSAGE_BYTES = 256
/** Default questions one peer may have being answered at once: it asks once per blob it is about to fetch. */
const MAX_IN_FLIGHT_PER_PEER = 32
/**
 * Default inbound streams per connection: twice what one peer may have served at
 * once, so that a flooder's extra streams reach the request guard, which counts them against it and
 * disconnects it, instead of being reset by libp2p unseen.
 */
const MAX_INBOUND_STREAMS = 2 * MAX_IN_FLIGHT_PER_PEER
/** Default outbound streams per connection. */
const MAX_OUTBOUND_STREAMS = 32

export class DefaultIntentProtocol extends ProtocolService implements IntentProtocol {
  private readonly init: IntentProtocolInit
  private readonly messageTimeout: number

  constructor(components: ProtocolComponents, init: IntentProtocolInit) {
    super(components, {
      protocol: INTENT_PROTOCOL,
      component: 'hffs:intent',
      maxInboundStreams: init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      maxOutboundStreams: init.maxOutboundStreams ?? MAX_OUTBOUND_STREAMS,
      runOnLimitedConnection: init.runOnLimitedConnection,
      maxInFlightPerPeer: MAX_IN_FLIGHT_PER_PEER,
      requestLimits: init.requestLimits,
      bans: init.bans,
    })
    this.init = init
    this.messageTimeout = init.messageTimeout ?? MESSAGE_TIMEOUT
  }

  async ask(
    peer: DialTarget,
    etag: string,
    ours: IntentState,
    options: AbortOptions = {},
  ): Promise<IntentState> {
    validateEtag(etag)
    return this.exchange(
      peer,
      { maxMessageBytes: MAX_MESSAGE_BYTES, messageTimeout: this.messageTimeout },
      options.signal,
      async (framed) => {
        await framed.write(encodeMessage({ type: 'intent', etag, state: ours }), options)
        return decodeIntent(await framed.read(options), etag)
      },
    )
  }

  protected async handleStream(stream: Stream, connection: Connection): Promise<void> {
    const framed = new FramedStream(stream, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      messageTimeout: this.messageTimeout,
    })
    const msg = Message.decode(await framed.read(), 'intent request').expectKeys('type', 'etag', 'state')
    if (msg.type !== 'intent') throw new ProtocolError(`intent request: unknown type "${msg.type}"`)
    const etag = msg.string('etag', 64)
    validateEtag(etag)
    this.init.board.note(etag, connection.remotePeer.toString(), toState(msg.string('state', 16)))
    await framed.write(encodeMessage({ type: 'intent', etag, state: this.init.board.stateOf(etag) }))
    await framed.close()
  }
}

function decodeIntent(bytes: Uint8Array, etag: string): IntentState {
  const msg = Message.decode(bytes, 'intent answer').expectKeys('type', 'etag', 'state')
  if (msg.type !== 'intent' || msg.string('etag', 64) !== etag)
    throw new ProtocolError('intent answer: for another blob')
  return toState(msg.string('state', 16))
}

function toState(s: string): IntentState {
  if (!(STATES as readonly string[]).includes(s)) throw new ProtocolError(`intent: unknown state "${s}"`)
  return s as IntentState
}
