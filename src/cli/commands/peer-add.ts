import type { CommandModule } from 'yargs'
import { ControlClient } from '../../node/control-client.ts'
import { resolveNodeHome } from '../../node/home.ts'
import { jsonOption } from './shared-options.ts'

interface PeerAddArgs {
  addr: string
  port?: number
  trust: boolean
  json: boolean
}

export const peerAddCommand: CommandModule<object, PeerAddArgs> = {
  command: 'add <addr>',
  describe:
    'Add a peer by IP (with --port, its libp2p port) or multiaddr; kept and redialled across restarts',
  builder: (y) =>
    y
      .positional('addr', {
        type: 'string',
        describe: 'IP, IP:PORT, host name or multiaddr (/ip4/…/tcp/…/p2p/…)',
      })
      .option('port', { type: 'number', describe: "The peer's libp2p TCP port (see its `hffs-node status`)" })
      .option('trust', {
        type: 'boolean',
        default: false,
        describe: 'Trust this peer: believe its snapshot listings offline, serve it gated and private repos',
      })
      .option('json', jsonOption) as never,
  handler: async (args) => {
    const client = await ControlClient.connect(resolveNodeHome())
    const result = await client.addPeer(args.addr, args.port, args.trust)
    if (args.json) {
      console.log(JSON.stringify(result, null, 2))
      return
    }
    const trusted = result.peer.trusted === true ? ' (trusted)' : ''
    if (result.connected) {
      const latency = result.latencyMs === null ? '' : ` (${result.latencyMs} ms)`
      console.log(`added ${result.peer.peerId}${trusted} at ${result.peer.addr}: connected${latency}`)
    } else {
      console.log(
        `added ${result.peer.peerId}${trusted} at ${result.peer.addr}: not reachable now (${result.error ?? 'unknown'}); will retry`,
      )
    }
  },
}
