import { bitfieldBytes, hasBit, setBit } from './bitfield.ts'
import { encodeAnswer, encodeUpdate } from './messages.ts'
import { Wakeup } from '../wire/wakeup.ts'
import type { HaveSource } from '../sources.ts'
import type { FramedStream } from '../wire/framed-stream.ts'

/**
 * The serving end of one have subscription: the have-map, then the indices of newly verified chunks as
 * the source announces them, until the client closes or resets the stream or `end()` is called.
 *
 * Indices wait in a queue while a write is blocked on a slow client; the queue holds each index at most
 * once, so it never outgrows the blob's chunk count, and a client that stops reading altogether hits the
 * per-message write timeout.
 */
export class HaveFeed {
  private readonly framed: FramedStream
  private readonly etag: string
  private readonly source: HaveSource
  private readonly maxUpdateIndices: number
  /** Chunks the client has been told about, or will be by the queued indices. */
  private told: Uint8Array | undefined
  private chunkCount = 0
  private readonly early: number[] = []
  private readonly queue: number[] = []
  private ending = false
  private remoteGone = false
  private readonly wakeup = new Wakeup()

  constructor(framed: FramedStream, etag: string, source: HaveSource, maxUpdateIndices: number) {
    this.framed = framed
    this.etag = etag
    this.source = source
    this.maxUpdateIndices = maxUpdateIndices
  }

  /** Ends the subscription from this side: the client gets `end`, then the stream closes. */
  end(): void {
    this.ending = true
    this.wakeup.wake()
  }

  async run(): Promise<void> {
    const { stream } = this.framed
    const onClose = (): void => {
      this.remoteGone = true
      this.wakeup.wake()
    }
    stream.addEventListener('close', onClose)
    stream.addEventListener('remoteCloseWrite', onClose)
    // A client that closed its end right after asking wants the map only.
    if (stream.remoteWriteStatus !== 'writable') this.remoteGone = true
    // Subscribe before reading the map, so that nothing verified in between is missed.
    const unsubscribe = this.source.subscribe(this.etag, (indices) => this.enqueue(indices))
    try {
      await this.serve()
    } catch (err) {
      // A write failing because the client went away is the normal end of a subscription.
      if (!this.remoteGone) throw err
    } finally {
      unsubscribe()
      stream.removeEventListener('close', onClose)
      stream.removeEventListener('remoteCloseWrite', onClose)
    }
  }

  private async serve(): Promise<void> {
    const haveMap = await this.source.getHaveMap(this.etag)
    if (haveMap === null) {
      await this.framed.write(encodeAnswer({ type: 'not-found' }))
      await this.framed.close()
      return
    }
    const { chunkCount } = haveMap
    const bits = new Uint8Array(bitfieldBytes(chunkCount))
    bits.set(haveMap.bits.subarray(0, bits.byteLength))
    this.chunkCount = chunkCount
    this.told = bits.slice()
    await this.framed.write(encodeAnswer({ type: 'have', haveMap: { chunkCount, bits } }))
    this.enqueue(this.early.splice(0))

    while (!this.remoteGone) {
      if (this.queue.length > 0) {
        const indices = this.queue.splice(0, this.maxUpdateIndices)
        await this.framed.write(encodeUpdate({ type: 'update', indices }))
      } else if (this.ending) {
        await this.framed.write(encodeUpdate({ type: 'end' }))
        break
      } else {
        await this.wakeup.wait()
      }
    }
    if (this.framed.stream.status === 'open') await this.framed.close()
  }

  private enqueue(indices: number[]): void {
    const told = this.told
    if (told === undefined) {
      // Before the map is read: kept only for the duration of one getHaveMap call.
      for (const i of indices) this.early.push(i)
      return
    }
    let added = false
    for (const i of indices) {
      if (!Number.isSafeInteger(i) || i < 0 || i >= this.chunkCount || hasBit(told, i)) continue
      setBit(told, i)
      this.queue.push(i)
      added = true
    }
    if (added) this.wakeup.wake()
  }
}
