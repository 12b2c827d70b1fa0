// Multicast on a lab site, the way mDNS uses it.
//   listen --iface IP [--group G] [--port P] [--ms N]: prints "ready", then one JSON line
//     { from, data } per datagram, and exits 0 after N ms.
//   send --iface IP --data TEXT [--group G] [--port P] [--count N] [--interval-ms N]
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  options: {
    iface: { type: 'string' },
    group: { type: 'string', default: '224.0.0.251' },
    port: { type: 'string', default: '5353' },
    ms: { type: 'string', default: '2000' },
    data: { type: 'string', default: 'hello' },
    count: { type: 'string', default: '3' },
    'interval-ms': { type: 'string', default: '100' },
  },
  allowPositionals: true,
})
const [mode] = positionals
const iface = values.iface
const port = Number(values.port)
if ((mode !== 'listen' && mode !== 'send') || iface === undefined) {
  console.error('usage: node udp-multicast.ts listen|send --iface IP [options]')
  process.exit(2)
}

const socket = createSocket({ type: 'udp4', reuseAddr: true })
if (mode === 'listen') {
  socket.on('message', (msg, rinfo) => {
    console.log(JSON.stringify({ from: rinfo.address, data: msg.toString() }))
  })
  socket.bind(port)
  await once(socket, 'listening')
  socket.addMembership(values.group, iface)
  console.log('ready')
  await sleep(Number(values.ms))
} else {
  socket.bind(0, iface)
  await once(socket, 'listening')
  socket.setMulticastInterface(iface)
  socket.setMulticastTTL(255)
  for (let i = 0; i < Number(values.count); i++) {
    if (i > 0) await sleep(Number(values['interval-ms']))
    await new Promise<void>((resolve, reject) =>
      socket.send(values.data, port, values.group, (err) => (err ? reject(err) : resolve())),
    )
  }
}
socket.close()
