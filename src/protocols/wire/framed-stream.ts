import { MessageTooLargeError, ProtocolError, StreamEndedError, TimeoutError } from './errors.ts'
import { FrameReader } from './frame-reader.ts'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface FramedStreamOptions {
  /** Largest message `read()` accepts, in bytes; a longer length prefix fails with MessageTooLargeError. */
  maxMessageBytes: number
  /**
   * Bytes that may arrive ahead of `read()` calls (the remote streaming several messages). Past it the
   * stream is aborted. Default: room for one message of `maxMessageBytes`.
   */
  maxBufferedBytes?: number
  /** Milliseconds allowed for each read and each write. */
  messageTimeout: number
}

export interface MessageOptions extends AbortOptions {
  /** Overrides the per-message timeout for this call; `null` waits bounded only by `signal`. */
  timeout?: number | null
}

// A varint length prefix of a message that fits in 32 bits.
const PREFIX_BYTES = 5

/**
 * Length-prefixed messages over a libp2p stream: every read bounded in size and time, every write bounded
 * in time and waiting for the stream to drain. Failures come out as the named errors of ./errors.ts.
 */
export class FramedStream {
  readonly stream: Stream
  private readonly reader: FrameReader
  private readonly messageTimeout: number
  /** When the read under way times out (performance.now()), and its timeout; null when no read waits. */
  private readDeadline: { at: number; ms: number } | null = null
  private readTimer: ReturnType<typeof setTimeout> | null = null
  /** When readTimer fires (performance.now()). */
  private readTimerAt = 0

  constructor(stream: Stream, options: FramedStreamOptions) {
    this.stream = stream
    this.messageTimeout = options.messageTimeout
    this.reader = new FrameReader(stream, {
      maxMessageBytes: options.maxMessageBytes,
      maxBufferedBytes: options.maxBufferedBytes ?? options.maxMessageBytes + PREFIX_BYTES,
    })
  }

  /** The next message. */
  async read(options: MessageOptions = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted()
    // A message already here needs no timer: only a read that waits can time out.
    const ready = this.reader.readBuffered()
    if (ready !== null) return ready
    return await this.waitFor(() => this.reader.read(options.signal), options)
  }

  /** The next message as the pieces it arrived in, not copied together (FrameReader.readParts). */
  async readParts(options: MessageOptions = {}): Promise<Uint8Array[]> {
    options.signal?.throwIfAborted()
    const ready = this.reader.readBufferedParts()
    if (ready !== null) return ready
    return await this.waitFor(() => this.reader.readParts(options.signal), options)
  }

  /** A read that waits for the remote, under the message timeout. */
  private async waitFor<T>(read: () => Promise<T>, options: MessageOptions): Promise<T> {
    const timeout = options.timeout === undefined ? this.messageTimeout : options.timeout
    if (timeout !== null) this.armReadTimer(timeout)
    try {
      return await read()
    } catch (err) {
      throw translateStreamError(err)
    } finally {
      this.readDeadline = null
    }
  }

  /**
   * Reads share one timer per stream, not a timer, a controller and two listeners each (bounded()): over
   * the thousands of reads of a pull, those cost ~3% of the pulling node's CPU. The timer fires at the
   * deadline it was armed for; a read waiting then with a later deadline gets the rest, and one past its
   * deadline fails with TimeoutError.
   */
  private armReadTimer(ms: number): void {
    const at = performance.now() + ms
    this.readDeadline = { at, ms }
    // A timer armed for an earlier read fires no later than this deadline: it will do.
    if (this.readTimer !== null && this.readTimerAt <= at) return
    this.setReadTimer(at)
  }

  private setReadTimer(at: number): void {
    if (this.readTimer !== null) clearTimeout(this.readTimer)
    this.readTimerAt = at
    this.readTimer = setTimeout(this.onReadTimer, Math.max(0, at - performance.now()))
    this.readTimer.unref() // the read's stream keeps the process alive, not its timer
  }

  private readonly onReadTimer = (): void => {
    this.readTimer = null
    const deadline = this.readDeadline
    if (deadline === null) return
    if (deadline.at > performance.now()) this.setReadTimer(deadline.at)
    else this.reader.interrupt(new TimeoutError(`read timed out after ${deadline.ms} ms`))
  }

  /** Sends one message, waiting while the stream's send buffer is full. */
  async write(message: Uint8Array | Uint8ArrayList, options: MessageOptions = {}): Promise<void> {
    await this.writeMany([message], options)
  }

  /**
   * Sends several messages with one `send()`: Yamux then carries them in fewer, larger frames (each frame
   * costs a Noise seal, socket writes and a window update from the remote).
   */
  async writeMany(messages: (Uint8Array | Uint8ArrayList)[], options: MessageOptions = {}): Promise<void> {
    // One contiguous buffer: Noise seals each piece of a list separately and TCP writes every piece with
    // a syscall of its own, so a prefix, a status byte and a chunk would cost three.
    await this.writeFramed(encodeFrames(messages), options)
  }

  /**
   * Sends bytes that already hold whole messages, each behind its length prefix (writeFramePrefix): a
   * sender that lays its messages out itself saves writeMany's copy.
   */
  async writeFramed(bytes: Uint8Array, options: MessageOptions = {}): Promise<void> {
    await this.bounded('write', options, async (signal) => {
      if (this.stream.send(bytes)) return
      // libp2p's muxer passes a drain of the connection below to every stream on it, also to one whose
      // own window is still shut; that stream then finds it cannot send and needs a drain again (in a
      // microtask queued before this one wakes). Wait for a drain of its own, or a reader that stopped
      // reading would have us queue (and read from disk) all it asked for.
      do await this.stream.onDrain({ signal })
      while (this.stream.writableNeedsDrain)
    })
  }

  /** Closes our writing end once everything queued is sent. */
  async close(options: MessageOptions = {}): Promise<void> {
    await this.bounded('close', options, async (signal) => {
      await this.stream.close({ signal })
    })
  }

  /**
   * Closes our end after a complete exchange. What was read is already in hand, so a failure here (the
   * remote gone meanwhile) only resets the stream instead of failing the exchange.
   */
  async finish(options: MessageOptions = {}): Promise<void> {
    try {
      await this.close(options)
    } catch (err) {
      this.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** Resets the stream; harmless when it is already closed. */
  abort(err: Error): void {
    this.stream.abort(err)
  }

  private async bounded<T>(
    what: string,
    options: MessageOptions,
    op: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    // Messages may already be buffered, and a buffered read never looks at the signal.
    options.signal?.throwIfAborted()
    const timeout = options.timeout === undefined ? this.messageTimeout : options.timeout
    if (timeout === null) {
      try {
        return await op(options.signal)
      } catch (err) {
        throw translateStreamError(err)
      }
    }
    // A plain timer and controller per message, not AbortSignal.timeout + AbortSignal.any: every `any` is
    // tracked by the caller's long-lived signal, and Node sweeps that whole set each time one of them is
    // collected, which costs seconds over the thousands of messages of one pull.
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort(new TimeoutError(`${what} timed out after ${timeout} ms`))
    }, timeout)
    const onAbort = (): void => controller.abort(options.signal?.reason)
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await op(controller.signal)
    } catch (err) {
      if (timedOut && options.signal?.aborted !== true) {
        throw new TimeoutError(`${what} timed out after ${timeout} ms`)
      }
      throw translateStreamError(err)
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
  }
}

/** Maps libp2p's stream errors onto ours (matched by name: no duplicate-package trap). */
function translateStreamError(err: unknown): unknown {
  const name = err instanceof Error ? err.name : ''
  const message = err instanceof Error ? err.message : String(err)
  switch (name) {
    case 'InvalidDataLengthError':
    case 'InvalidDataLengthLengthError':
    case 'StreamBufferError':
      return new MessageTooLargeError(message)
    case 'InvalidMessageLengthError':
      return new ProtocolError(message)
    case 'UnexpectedEOFError':
      return new StreamEndedError(message)
    default:
      return err
  }
}

/** Length-prefixes (unsigned varint) each message into one new buffer. */
function encodeFrames(messages: (Uint8Array | Uint8ArrayList)[]): Uint8Array {
  let total = 0
  for (const m of messages) total += framePrefixLength(m.byteLength) + m.byteLength
  const out = Buffer.allocUnsafe(total) // every byte is written below
  let at = 0
  for (const m of messages) {
    at = writeFramePrefix(out, at, m.byteLength)
    for (const part of m instanceof Uint8Array ? [m] : m) {
      out.set(part, at)
      at += part.byteLength
    }
  }
  return out
}

/** Bytes of the length prefix (unsigned varint) of a message of `length` bytes. */
export function framePrefixLength(length: number): number {
  let bytes = 1
  for (let n = length; n >= 128; n = Math.floor(n / 128)) bytes++
  return bytes
}

/** Writes the length prefix of a message of `length` bytes at `at`; returns where the message begins. */
export function writeFramePrefix(out: Uint8Array, at: number, length: number): number {
  for (let n = length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      out[at++] = n
      return at
    }
    out[at++] = (n % 128) | 0x80
  }
}
