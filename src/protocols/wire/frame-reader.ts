import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { copyParts } from '../../store/byte-parts.ts'
import { MessageTooLargeError, ProtocolError, StreamEndedError } from './errors.ts'

export interface FrameReaderOptions {
  /** Largest message accepted; a longer length prefix fails with MessageTooLargeError. */
  maxMessageBytes: number
  /** Bytes that may wait unread; past it the stream is aborted with MessageTooLargeError. */
  maxBufferedBytes: number
}

/** A varint prefix of a length up to 2^35 needs at most this many bytes; more is malformed. */
const MAX_PREFIX_BYTES = 5

/**
 * Reads unsigned-varint length-prefixed messages from a libp2p stream, straight from its 'message' events.
 * The prefix is parsed in place from the buffered pieces, and a message that lies within one piece is
 * handed out as a view of it; only a message spread over several pieces is copied, once (or, read with
 * readParts(), handed out as views of its pieces). (@libp2p/utils' lpStream reads a prefix a byte at a
 * time, each read a promise and a list, which costs more than the payload of a chunk over a fast link.)
 */
export class FrameReader {
  private readonly stream: Stream
  private readonly maxMessageBytes: number
  private readonly maxBufferedBytes: number
  /** Pieces received and not yet read; the first is consumed from `head`. */
  private pieces: Uint8Array[] = []
  private head = 0
  private buffered = 0
  private ended = false
  private failure: Error | null = null
  private wake: (() => void) | null = null
  private interruptWait: ((err: Error) => void) | null = null

  constructor(stream: Stream, options: FrameReaderOptions) {
    this.stream = stream
    this.maxMessageBytes = options.maxMessageBytes
    this.maxBufferedBytes = options.maxBufferedBytes
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('close', this.onClose)
    stream.addEventListener('remoteCloseWrite', this.onEnd)
    if (stream.remoteWriteStatus !== 'writable') {
      // The remote finished before we listened: its 'remoteCloseWrite' is gone, and what it sent is handed
      // to the listener above in a microtask queued by addEventListener, so the end comes after that.
      if (stream.readBufferLength === 0) this.ended = true
      else queueMicrotask(this.onEnd)
    }
  }

  /** The next message; StreamEndedError when the stream ends first, the stream's error when it fails. */
  async read(signal?: AbortSignal): Promise<Uint8Array> {
    return (await this.next(false, signal)) as Uint8Array
  }

  /**
   * The next message as the pieces it arrived in (views, never a copy; one piece when it lay in one),
   * else as read().
   */
  async readParts(signal?: AbortSignal): Promise<Uint8Array[]> {
    return (await this.next(true, signal)) as Uint8Array[]
  }

  /**
   * The next message if it is already here, else null (also when the stream failed or ended: read() says
   * how). Throws on a malformed or long prefix, as read() does.
   */
  readBuffered(): Uint8Array | null {
    if (this.failure !== null) return null
    return this.take(false) as Uint8Array | null
  }

  /** readBuffered(), as pieces (see readParts()). */
  readBufferedParts(): Uint8Array[] | null {
    if (this.failure !== null) return null
    return this.take(true) as Uint8Array[] | null
  }

  /** Fails the read waiting now, if any, with `err` (it timed out); later reads go on as usual. */
  interrupt(err: Error): void {
    this.interruptWait?.(err)
  }

  /** Stops listening to the stream (its unread bytes are dropped). */
  detach(): void {
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('close', this.onClose)
    this.stream.removeEventListener('remoteCloseWrite', this.onEnd)
    this.pieces = []
    this.buffered = 0
  }

  private readonly onMessage = (evt: StreamMessageEvent): void => {
    if (this.failure !== null) return
    const data = evt.data
    if (data instanceof Uint8Array) this.push(data)
    else for (const piece of data) this.push(piece)
    if (this.buffered > this.maxBufferedBytes) {
      const err = new MessageTooLargeError(
        `${this.buffered} unread bytes exceed the ${this.maxBufferedBytes} allowed`,
      )
      this.fail(err)
      queueMicrotask(() => this.stream.abort(err))
      return
    }
    this.notify()
  }

  private readonly onClose = (evt: StreamCloseEvent): void => {
    if (evt.error != null) this.fail(evt.error)
    else this.onEnd()
  }

  private readonly onEnd = (): void => {
    this.ended = true
    this.notify()
  }

  private push(piece: Uint8Array): void {
    if (piece.byteLength === 0) return
    this.pieces.push(piece)
    this.buffered += piece.byteLength
  }

  private fail(err: Error): void {
    this.failure ??= err
    this.notify()
  }

  private notify(): void {
    const wake = this.wake
    this.wake = null
    wake?.()
  }

  private async next(asParts: boolean, signal?: AbortSignal): Promise<Uint8Array | Uint8Array[]> {
    for (;;) {
      signal?.throwIfAborted()
      if (this.failure !== null) throw this.failure
      const message = this.take(asParts)
      if (message !== null) return message
      if (this.ended) {
        throw new StreamEndedError(
          this.buffered === 0
            ? 'the stream ended before a message'
            : `the stream ended inside a message (${this.buffered} bytes of it)`,
        )
      }
      await this.arrival(signal)
    }
  }

  private arrival(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.wake = null
        this.interruptWait = null
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.wake = () => {
        this.interruptWait = null
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      this.interruptWait = (err) => {
        this.wake = null
        this.interruptWait = null
        signal?.removeEventListener('abort', onAbort)
        reject(err)
      }
    })
  }

  /**
   * A whole buffered message (as one array, or `asParts` as the views of its pieces), or null when more
   * bytes are needed. Throws on a malformed or long prefix.
   */
  private take(asParts: boolean): Uint8Array | Uint8Array[] | null {
    if (this.buffered === 0) return null
    // The prefix, read across pieces without consuming.
    let length = 0
    let prefix = 0
    let p = 0
    let at = this.head
    for (;;) {
      if (prefix === MAX_PREFIX_BYTES) throw new ProtocolError('a message length prefix is too long')
      if (p === this.pieces.length) return null
      const piece = this.pieces[p]
      if (at === piece.byteLength) {
        p++
        at = 0
        continue
      }
      const byte = piece[at++]
      length += (byte & 0x7f) * 2 ** (7 * prefix)
      prefix++
      if (byte < 0x80) break
    }
    if (length > this.maxMessageBytes) {
      throw new MessageTooLargeError(
        `a message of ${length} bytes exceeds the ${this.maxMessageBytes} allowed`,
      )
    }
    if (this.buffered < prefix + length) return null
    this.consume(prefix)
    const first = this.pieces[0]
    if (first !== undefined && first.byteLength - this.head >= length) {
      // A plain Uint8Array over the piece (the transport hands out Buffers), not a copy.
      const view = new Uint8Array(first.buffer, first.byteOffset + this.head, length)
      this.consume(length)
      return asParts ? [view] : view
    }
    const parts: Uint8Array[] = []
    for (let taken = 0; taken < length;) {
      const piece = this.pieces[0]
      const n = Math.min(piece.byteLength - this.head, length - taken)
      parts.push(new Uint8Array(piece.buffer, piece.byteOffset + this.head, n))
      taken += n
      this.consume(n)
    }
    if (asParts) return parts
    const buf = Buffer.allocUnsafe(length) // filled below
    const out = new Uint8Array(buf.buffer, buf.byteOffset, length)
    copyParts(parts, out, 0)
    return out
  }

  private consume(n: number): void {
    this.buffered -= n
    while (n > 0) {
      const piece = this.pieces[0]
      const left = piece.byteLength - this.head
      if (n < left) {
        this.head += n
        return
      }
      n -= left
      this.pieces.shift()
      this.head = 0
    }
  }
}
