import { createRequire } from 'node:module'

/** Bytes handed to the XSalsa20 WebAssembly module at a time. */
const SLICE_BYTES = 1 << 20

interface XSalsa20Instance {
  /** The WebAssembly-backed state: `_memory` is its view of the module's memory. */
  _xor?: { _memory?: Uint8Array }
  update(input: Uint8Array, output?: Uint8Array): Uint8Array
  finalize(): void
}

type XSalsa20Module = ((nonce: Uint8Array, key: Uint8Array) => XSalsa20Instance) & {
  prototype: XSalsa20Instance
}

let patched = false

/**
 * @libp2p/pnet encrypts with the `xsalsa20` package, which has two faults that kill a busy node with
 * "WebAssembly.Memory.grow(): Maximum memory size exceeded" thrown from an event listener:
 * - its WebAssembly memory must hold a whole buffer at once and cannot grow past 64 MB, and a connection may
 *   hand it more (a relayed connection behind a slow WAN queues chunk streams);
 * - when one cipher grows that memory, every other cipher's view of it is detached (length 0), and each of
 *   them then grows it again by the size of its next buffer: with many connections it runs out.
 * This feeds it at most SLICE_BYTES at a time and gives a cipher with a detached view a fresh one before it
 * works; the cipher keeps its stream position between calls, so the bytes are the same. Applied once,
 * before the first private-swarm connection.
 */
export function patchXsalsa20ForLargeBuffers(): void {
  if (patched) return
  patched = true
  const require = createRequire(import.meta.resolve('@libp2p/pnet'))
  const XSalsa20 = require('xsalsa20') as XSalsa20Module
  const update = XSalsa20.prototype.update
  const zeros = new Uint8Array(32)
  /** A view of the module's memory as it is now: a new cipher takes one; it is then given back. */
  const freshView = (): Uint8Array | undefined => {
    const probe = XSalsa20(zeros, zeros)
    const view = probe._xor?._memory
    probe.finalize()
    return view
  }
  const refresh = (cipher: XSalsa20Instance): void => {
    const state = cipher._xor
    if (state?._memory !== undefined && state._memory.byteLength === 0) state._memory = freshView()
  }
  XSalsa20.prototype.update = function (this: XSalsa20Instance, input: Uint8Array, output?: Uint8Array) {
    const out = output ?? new Uint8Array(input.byteLength)
    for (let at = 0; at < input.byteLength; at += SLICE_BYTES) {
      const end = Math.min(at + SLICE_BYTES, input.byteLength)
      refresh(this)
      update.call(this, input.subarray(at, end), out.subarray(at, end))
    }
    return out
  }
  // Room for a slice and many ciphers up front, so that the memory rarely has to grow at all.
  const warm = XSalsa20(zeros, zeros)
  update.call(warm, new Uint8Array(4 * SLICE_BYTES))
  warm.finalize()
}
