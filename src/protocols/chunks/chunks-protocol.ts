import { InvalidParametersError } from '@libp2p/interface'
import { HASH_BYTES, MAX_CHUNK_SIZE, chunkHash, hashToHex, initXet, sameHash } from '../../store/xet/index.ts'
import { MESSAGE_TIMEOUT } from '../wire/constants.ts'
import { FramedStream } from '../wire/framed-stream.ts'
import { ProtocolService } from '../wire/protocol-service.ts'
import {
  CHUNKS_PROTOCOL,
  MAX_ANSWER_BYTES,
  MAX_BATCH_SIZE,
  MAX_INBOUND_STREAMS,
  MAX_IN_FLIGHT_PER_PEER,
  MAX_OUTBOUND_STREAMS,
  SEND_GROUP,
} from './constants.ts'
import { BadChunkError } from './errors.ts'
import {
  answerFramesInPlace,
  answerHeaderBytes,
  decodeAnswerParts,
  decodeWant,
  encodeAnswer,
  encodeWant,
  maxWantBytes,
} from './messages.ts'
import type { ChunksProtocol, ChunksProtocolInit, FetchChunksOptions, FetchedChunk } from './index.ts'
import type { ChunkSource } from '../sources.ts'
import type { ProtocolComponents } from '../wire/components.ts'
import type { Connection, DialTarget, Stream } from '@libp2p/interface'

/** Why a batch's stream is reset when its consumer stops iterating early. */
class BatchAbandonedError extends Error {
  override name = 'BatchAbandonedError'
}

export class DefaultChunksProtocol extends ProtocolService implements ChunksProtocol {
  private readonly source: ChunkSource
  private readonly messageTimeout: number
  private readonly maxBatchSize: number
  private readonly sendGroup: number

  constructor(components: ProtocolComponents, init: ChunksProtocolInit) {
    super(components, {
      protocol: CHUNKS_PROTOCOL,
      component: 'hffs:chunks',
      maxInboundStreams: init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      maxOutboundStreams: init.maxOutboundStreams ?? MAX_OUTBOUND_STREAMS,
      runOnLimitedConnection: init.runOnLimitedConnection,
      maxInFlightPerPeer: MAX_IN_FLIGHT_PER_PEER,
      requestLimits: init.requestLimits,
      bans: init.bans,
    })
    this.source = init.chunks
    this.messageTimeout = init.messageTimeout ?? MESSAGE_TIMEOUT
    this.maxBatchSize = init.maxBatchSize ?? MAX_BATCH_SIZE
    this.sendGroup = init.sendGroup ?? SEND_GROUP
  }

  async *fetchChunks(
    peer: DialTarget,
    hashes: readonly Uint8Array[],
    options: FetchChunksOptions = {},
  ): AsyncGenerator<FetchedChunk, void, undefined> {
    if (hashes.length === 0) return
    if (hashes.length > this.maxBatchSize) {
      throw new InvalidParametersError(`at most ${this.maxBatchSize} chunks per batch, got ${hashes.length}`)
    }
    if (hashes.some((hash) => hash.byteLength !== HASH_BYTES)) {
      throw new InvalidParametersError('a chunk hash has 32 bytes')
    }
    await initXet()
    const { signal } = options
    const verify = options.verify !== false
    const { stream, remotePeer } = await this.openStream(peer, signal)
    const framed = new FramedStream(stream, {
      maxMessageBytes: MAX_ANSWER_BYTES,
      // The server streams ahead of the consumer; at worst the whole batch waits here.
      maxBufferedBytes: hashes.length * (MAX_ANSWER_BYTES + 4),
      messageTimeout: this.messageTimeout,
    })
    let finished = false
    try {
      await framed.write(encodeWant(hashes), { signal })
      for (const hash of hashes) {
        // In the pieces it came in: hashed and later copied as such, never first joined (a copy per chunk).
        const answer = decodeAnswerParts(await framed.readParts({ signal }))
        if (answer.type === 'missing') {
          yield { hash, missing: true }
          continue
        }
        // Hashed here, on the thread that receives it, unless the caller checks chunks itself (verify:
        // false): a pull does, on the worker that writes them (node/pull/write-worker.ts). Hashing them off
        // this thread before handing them out did not pay, measured on the 2-core VM, where waking another
        // thread costs ~80-100 us:
        // - a message to a worker per chunk, the chunk copied into it: more CPU and memory than it saved;
        // - chunks copied into a SharedArrayBuffer, verdicts read with Atomics: V8 copies into and out of
        //   shared memory byte by byte when source and target are unequally aligned, as a chunk in the
        //   transport's buffers is (25-45 us per 64 KiB, not ~3): the receiver used ~1.4 CPU-s more;
        // - chunks gathered 8-32 at a time in buffers moved to a worker and back: the copy in, the messages
        //   and the wake-ups cost this thread what hashing did (median 7.38 against 6.75 s).
        if (verify) {
          const got = chunkHash(answer.data)
          if (!sameHash(got, hash)) throw new BadChunkError(remotePeer.toString(), hash, got)
        }
        yield { hash, data: answer.data }
      }
      finished = true
      await framed.finish({ signal })
    } catch (err) {
      finished = true
      framed.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    } finally {
      // The consumer left the loop early: tell the server to stop sending.
      if (!finished) framed.abort(new BatchAbandonedError('the caller stopped reading the batch'))
    }
  }

  protected async handleStream(stream: Stream, connection: Connection): Promise<void> {
    const framed = new FramedStream(stream, {
      maxMessageBytes: maxWantBytes(this.maxBatchSize),
      messageTimeout: this.messageTimeout,
    })
    const hashes = decodeWant(await framed.read(), this.maxBatchSize)
    // Reads run one group ahead of the stream, and a group of answers goes out in one send: the disk and
    // the network overlap, and Yamux carries fewer, larger frames. At most two groups are held per stream.
    const group = (from: number): Promise<(Uint8Array | null)[]> => {
      const data = this.readServable(hashes.slice(from, from + this.sendGroup))
      data.catch(() => {}) // awaited in the next round; not an unhandled rejection if the stream fails first
      return data
    }
    let next = group(0)
    for (let at = 0; at < hashes.length; at += this.sendGroup) {
      const answers = await next
      next = group(at + this.sendGroup)
      const frames = answerFramesInPlace(answers)
      if (frames !== null) await framed.writeFramed(frames)
      else await framed.writeMany(answers.map(encodeAnswer))
    }
    await framed.close()
    this.log.trace('sent %d chunks to %p', hashes.length, connection.remotePeer)
  }

  /** Chunks from the source (neighbours read together when it can), null when missing or of an impossible size. */
  private async readServable(hashes: Uint8Array[]): Promise<(Uint8Array | null)[]> {
    if (hashes.length === 0) return []
    // Room for each answer's frame header before its chunk: a group read from blob files goes out as read.
    const found =
      this.source.readChunks !== undefined
        ? await this.source.readChunks(hashes, { reserve: answerHeaderBytes })
        : await Promise.all(hashes.map(async (hash) => await this.source.readChunk(hash)))
    return found.map((data, i) => {
      if (data !== null && (data.byteLength === 0 || data.byteLength > MAX_CHUNK_SIZE)) {
        this.log.error(
          'chunk %s from the source has %d bytes: answered missing',
          hashToHex(hashes[i]),
          data.byteLength,
        )
        return null
      }
      return data
    })
  }
}
