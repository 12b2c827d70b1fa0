import { bitfieldBytes, hasBit, setBit } from './bitfield.ts'
import { decodeUpdate } from './messages.ts'
import { Wakeup } from '../wire/wakeup.ts'
import type { HaveMap } from '../sources.ts'
import type { FramedStream } from '../wire/framed-stream.ts'
import type { PeerId } from '@libp2p/interface'

/** Raised inside the subscription's own stream when the client closes it; never seen by callers. */
class SubscriptionClosedError extends Error {
  override name = 'SubscriptionClosedError'
}

/**
 * The client end of a have subscription. `haveMap` starts as the peer's map and is kept current; iterating
 * yields the indices of chunks the peer newly holds, in batches, until the peer ends the subscription
 * (iteration returns), `close()` is called (returns), the signal aborts (throws its reason) or the stream
 * fails (throws). One consumer at a time.
 *
 * Updates are read as they arrive whether or not anyone iterates, and merged: what waits for the
 * consumer is a list of distinct indices, bounded by the chunk count.
 */
export class HaveSubscription implements AsyncIterable<number[]> {
  readonly etag: string
  readonly remotePeer: PeerId
  readonly haveMap: HaveMap
  private readonly framed: FramedStream
  private readonly signal: AbortSignal | undefined
  private pending: number[] = []
  private state: 'open' | 'ended' | 'failed' = 'open'
  private error: unknown
  private readonly wakeup = new Wakeup()
  private readonly onAbort = (): void => this.fail(this.signal?.reason)

  constructor(
    framed: FramedStream,
    remotePeer: PeerId,
    etag: string,
    haveMap: HaveMap,
    signal: AbortSignal | undefined,
  ) {
    this.framed = framed
    this.remotePeer = remotePeer
    this.etag = etag
    this.haveMap = { chunkCount: haveMap.chunkCount, bits: new Uint8Array(bitfieldBytes(haveMap.chunkCount)) }
    this.haveMap.bits.set(haveMap.bits)
    this.signal = signal
    signal?.addEventListener('abort', this.onAbort, { once: true })
    void this.pump()
  }

  /** Whether the peer holds chunk i, as of the last update received. */
  has(i: number): boolean {
    return i >= 0 && i < this.haveMap.chunkCount && hasBit(this.haveMap.bits, i)
  }

  /** Ends the subscription: iteration returns at once, the stream is reset so that the peer unsubscribes. */
  close(): void {
    if (this.state !== 'open') return
    this.pending = []
    this.settle('ended')
    this.framed.abort(new SubscriptionClosedError('subscription closed by the client'))
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<number[], void, undefined> {
    while (true) {
      if (this.pending.length > 0) {
        yield this.pending.splice(0)
      } else if (this.state === 'ended') {
        return
      } else if (this.state === 'failed') {
        throw this.error
      } else {
        await this.wakeup.wait()
      }
    }
  }

  private async pump(): Promise<void> {
    try {
      while (this.state === 'open') {
        // No timeout between updates: an idle subscription is normal. The signal, the stream closing
        // and yamux keep-alive on the connection bound this wait.
        const bytes = await this.framed.read({ timeout: null, signal: this.signal })
        const update = decodeUpdate(bytes, this.haveMap.chunkCount)
        if (update.type === 'end') {
          this.settle('ended')
          await this.framed.finish()
          return
        }
        this.merge(update.indices)
      }
    } catch (err) {
      this.fail(err)
    }
  }

  private merge(indices: number[]): void {
    for (const i of indices) {
      if (hasBit(this.haveMap.bits, i)) continue
      setBit(this.haveMap.bits, i)
      this.pending.push(i)
    }
    this.wakeup.wake()
  }

  private fail(err: unknown): void {
    if (this.state !== 'open') return
    this.error = err
    this.settle('failed')
    this.framed.abort(err instanceof Error ? err : new Error(String(err)))
  }

  private settle(state: 'ended' | 'failed'): void {
    this.state = state
    this.signal?.removeEventListener('abort', this.onAbort)
    this.wakeup.wake()
  }
}
