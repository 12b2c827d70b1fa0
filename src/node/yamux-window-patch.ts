import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

let patched = false

/**
 * What each stream offers the other side to send at once, in its first window update (the SYN of a stream
 * we open; for one we accept, the ACK or the first update due), instead of yamux's 256 KiB. Half a batch
 * of chunks (2 MiB) then flows without waiting on the receiver, and a 2 MiB stream costs one or two window
 * updates, not five: each is a frame, a Noise message and a socket write at one end, a read and a
 * decryption at the other. The spec's way to grow a window, so any yamux on the other side takes it.
 * Granting 8.5 MiB (no update at all within a 64-chunk batch) did not measurably help: two rounds of 5
 * alternated 1 GiB pulls gave medians 6.72 against 7.05 s, then 7.68 against 7.29 s.
 */
export const INITIAL_WINDOW_GRANT = 2 * 1024 * 1024

/** The fields of a YamuxStream read here (private in its types). */
interface WindowState {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
  maxStreamWindowSize: number
  [granted]?: true
}

const granted = Symbol('hffs.windowGranted')

/**
 * @chainsafe/libp2p-yamux answers every data frame it receives with a window update: one more frame, one
 * more Noise encryption and one more socket write for each ~64 KiB that arrives, about a tenth of a bulk
 * receiver's CPU. go-yamux (and the yamux spec's intent) withholds the update until at least half of the
 * window has been used; this does the same. SYN/ACK flags still go out at once, a paused stream stays
 * paused, and the window's auto-tuning (doubling while the reader keeps up) still runs at each update.
 * The sender always has the other half of the window to send while the update is on its way. The first
 * update of a stream also grants INITIAL_WINDOW_GRANT.
 */
export function patchYamuxWindowUpdates(): void {
  if (patched) return
  patched = true
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate(this: WindowState): void }
  const original = proto.sendWindowUpdate
  proto.sendWindowUpdate = function (this: WindowState): void {
    const state = this.state
    const flagsDue = state === StreamState.Init || state === StreamState.SYNReceived
    if (!flagsDue && state !== StreamState.Paused && this.recvWindowCapacity > this.recvWindow / 2) return
    // Granted with a frame that goes out anyway: a stream that only sends never costs an extra update.
    if (this[granted] === undefined && state !== StreamState.Paused) {
      this[granted] = true
      this.recvWindow = Math.max(this.recvWindow, Math.min(INITIAL_WINDOW_GRANT, this.maxStreamWindowSize))
    }
    original.call(this)
  }
}
