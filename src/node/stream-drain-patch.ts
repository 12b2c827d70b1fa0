import { AbstractMessageStream } from '@libp2p/utils'
import type { AbortOptions } from '@libp2p/interface'

let patched = false

/** Promise.withResolvers() (ES2024; the lib this project compiles against is older). */
interface Deferred {
  promise: Promise<void>
  resolve: (value: void) => void
  reject: (reason?: unknown) => void
}

/** The fields of @libp2p/utils' AbstractMessageStream read here (private in its types). */
interface DrainState {
  writableNeedsDrain: boolean
  onDrainPromise?: Deferred | null
  onDrain(options?: AbortOptions): Promise<void>
}

/** Deferreds that were resolved or rejected: a drain that has come is no promise of the next one. */
const settled = new WeakSet<Deferred>()

/**
 * @libp2p/utils (7.4) creates a stream's "drain" promise once and never clears it, so after a stream's
 * first drain, `onDrain()` resolves at once every time: a writer that waits for it (`send()` said false)
 * never waits again, and queues everything it has in the stream's buffer. A chunk server then read from
 * disk and queued a whole batch for a peer that had stopped reading, and the raw stream of the peer-pull
 * benchmark held ~900 MB. This makes each wait after a drain wait for the next one.
 */
export function patchStreamDrain(): void {
  if (patched) return
  patched = true
  const proto = AbstractMessageStream.prototype as unknown as DrainState
  const onDrain = proto.onDrain
  proto.onDrain = function (this: DrainState, options?: AbortOptions): Promise<void> {
    const before = this.onDrainPromise
    if (before != null && settled.has(before)) this.onDrainPromise = null
    const waiting = onDrain.call(this, options)
    const deferred = this.onDrainPromise
    if (deferred != null && deferred !== before) {
      const { resolve, reject } = deferred
      deferred.resolve = (value: void) => {
        settled.add(deferred)
        resolve(value)
      }
      deferred.reject = (reason?: unknown) => {
        settled.add(deferred)
        reject(reason)
      }
    }
    return waiting
  }
}
