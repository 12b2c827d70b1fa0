import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

let patched = false

/** The fields of a YamuxStream read here (private in its types). */
interface WindowState {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

/**
 * @chainsafe/libp2p-yamux answers every data frame it receives with a window update: one more frame, one
 * more Noise encryption and one more socket write for each ~64 KiB that arrives, about a tenth of a bulk
 * receiver's CPU. go-yamux (and the yamux spec's intent) withholds the update until at least half of the
 * window has been used; this does the same. SYN/ACK flags still go out at once, a paused stream stays
 * paused, and the window's auto-tuning (doubling while the reader keeps up) still runs at each update.
 * The sender always has the other half of the window to send while the update is on its way.
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
    original.call(this)
  }
}
