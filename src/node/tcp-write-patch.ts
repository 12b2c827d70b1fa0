import { Socket } from 'node:net'
import { AbstractMultiaddrConnection } from '@libp2p/utils'

let patched = false

interface SendResult {
  sentBytes: number
  canSendMore: boolean
}

/** The parts of @libp2p/tcp's connection (TCPSocketMultiaddrConnection, not exported) used here. */
interface SocketConnection {
  socket?: unknown
  sendData(data: Iterable<Uint8Array> & { byteLength: number }): SendResult
  [corked]?: true
}

const corked = Symbol('hffs.corkedWrites')

/**
 * @libp2p/tcp writes each piece it is given with a `socket.write()` of its own, and Noise gives it two per
 * message: a 2-byte length and up to 64 KiB of ciphertext. On a socket with nothing queued, each write is a
 * syscall that sends a TCP segment at once: a 2-byte segment, then the rest, for every message, and the
 * other end wakes up for each. This writes all the pieces of one send in a single writev (cork, write,
 * uncork), and reports back pressure as the socket's buffer stands afterwards. Applied to the TCP
 * connections of every node (the first time each sends), nothing else.
 */
export function patchTcpWrites(): void {
  if (patched) return
  patched = true
  const proto = AbstractMultiaddrConnection.prototype as unknown as {
    processSendQueue(this: SocketConnection): boolean
  }
  const processSendQueue = proto.processSendQueue
  proto.processSendQueue = function (this: SocketConnection): boolean {
    if (this[corked] === undefined) {
      this[corked] = true
      const socket = this.socket
      if (socket instanceof Socket) this.sendData = (data) => sendCorked(socket, data)
    }
    return processSendQueue.call(this)
  }
}

function sendCorked(socket: Socket, data: Iterable<Uint8Array> & { byteLength: number }): SendResult {
  socket.cork()
  try {
    // Past the high-water mark write() says "wait", but the bytes are queued all the same.
    for (const buf of data) socket.write(buf)
  } finally {
    socket.uncork()
  }
  // A write that said "wait" makes the socket emit 'drain' once its queue is empty, which resumes sending.
  return { sentBytes: data.byteLength, canSendMore: socket.writableLength < socket.writableHighWaterMark }
}
