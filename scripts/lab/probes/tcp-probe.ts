// Is an IPv4 address reachable from here? A TCP connect answers without ping or a listener:
// a connection or a refusal (RST) means a host answered; a timeout or an ICMP error means not.
// usage: node tcp-probe.ts IP [--port 9] [--timeout-ms 1000]; exit 0 reachable, 1 not, 2 usage.
import { connect } from 'node:net'
import { parseArgs } from 'node:util'

const ANSWERED = new Set(['ECONNREFUSED', 'ECONNRESET'])

function probe(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs })
    const done = (outcome: string): void => {
      socket.destroy()
      resolve(outcome)
    }
    socket.once('connect', () => done('connected'))
    socket.once('timeout', () => done('timeout'))
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message))
  })
}

const { values, positionals } = parseArgs({
  options: { port: { type: 'string', default: '9' }, 'timeout-ms': { type: 'string', default: '1000' } },
  allowPositionals: true,
})
if (positionals.length !== 1) {
  console.error('usage: node tcp-probe.ts IP [--port 9] [--timeout-ms 1000]')
  process.exit(2)
}
const outcome = await probe(positionals[0], Number(values.port), Number(values['timeout-ms']))
console.log(outcome)
process.exit(outcome === 'connected' || ANSWERED.has(outcome) ? 0 : 1)
