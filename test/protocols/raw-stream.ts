import { lpStream } from '@libp2p/utils'
import type { Libp2p, Stream } from '@libp2p/interface'

/** Opens a stream of `protocol` from `from` to `to` with no service on our side: raw frames only. */
export async function openRaw(from: Libp2p, to: Libp2p, protocol: string): Promise<Stream> {
  return await from.dialProtocol(to.getMultiaddrs(), protocol, { signal: AbortSignal.timeout(5000) })
}

/** Sends one length-prefixed frame. */
export async function sendFrame(stream: Stream, payload: Uint8Array): Promise<void> {
  await lpStream(stream).write(payload)
}

/** Sends a length prefix announcing `length` bytes, and nothing after it. */
export function sendLengthPrefix(stream: Stream, length: number): void {
  const bytes: number[] = []
  for (let n = length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      bytes.push(n)
      break
    }
    bytes.push((n % 128) | 0x80)
  }
  stream.send(Uint8Array.from(bytes))
}

/** Resolves with the stream's status ('reset' when the remote reset it) once it closes with an error; rejects after `ms`. */
export async function waitForReset(stream: Stream, ms = 5000): Promise<string> {
  if (stream.status === 'reset' || stream.status === 'aborted') return stream.status
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stream still ${stream.status} after ${ms} ms`)), ms)
    stream.addEventListener('close', (evt) => {
      clearTimeout(timer)
      if (evt.error === undefined) reject(new Error('stream closed cleanly, expected a reset'))
      else resolve(stream.status)
    })
  })
}
