import { createRequire } from 'node:module'

/** Bytes handed to the XSalsa20 WebAssembly module at a time. */
const SLICE_BYTES = 1 << 20

interface XSalsa20Instance {
  update(input: Uint8Array, output?: Uint8Array): Uint8Array
}

let patched = false

/**
 * @libp2p/pnet encrypts with the `xsalsa20` package, whose WebAssembly memory must hold a whole buffer at
 * once and cannot grow past 64 MB: a connection that queues more than that (a relayed connection behind a
 * slow WAN, with chunk streams writing ahead) throws from an event listener and kills the process. This
 * feeds it at most SLICE_BYTES at a time; the cipher keeps its stream position between calls, so the bytes
 * are the same. Applied once, before the first private-swarm connection.
 */
export function patchXsalsa20ForLargeBuffers(): void {
  if (patched) return
  patched = true
  const require = createRequire(import.meta.resolve('@libp2p/pnet'))
  const XSalsa20 = require('xsalsa20') as { prototype: XSalsa20Instance }
  const update = XSalsa20.prototype.update
  XSalsa20.prototype.update = function (this: XSalsa20Instance, input: Uint8Array, output?: Uint8Array) {
    if (input.byteLength <= SLICE_BYTES) return update.call(this, input, output)
    const out = output ?? new Uint8Array(input.byteLength)
    for (let at = 0; at < input.byteLength; at += SLICE_BYTES) {
      const end = Math.min(at + SLICE_BYTES, input.byteLength)
      update.call(this, input.subarray(at, end), out.subarray(at, end))
    }
    return out
  }
}
