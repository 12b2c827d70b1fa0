import type { Command } from 'commander'
import { ControlClient } from '../../node/control-client.ts'
import { resolveNodeHome } from '../../node/home.ts'
import { jsonOption, parseNumber } from './shared-options.ts'

interface PeerAddOptions {
  port?: number
  trust: boolean
  json: boolean
}

export function addPeerAddCommand(peer: Command): void {
  peer
    .command('add')
    .description(
      'Add a peer by IP (with --port, its libp2p port) or multiaddr; kept and redialled across restarts',
    )
    .argument('<addr>', 'IP, IP:PORT, host name or multiaddr (/ip4/…/tcp/…/p2p/…)')
    .option('--port <port>', "The peer's libp2p TCP port (see its `hffs-node status`)", parseNumber)
    .option(
      '--trust',
      'Trust this peer: believe its snapshot listings offline, serve it gated and private repos',
      false,
    )
    .addOption(jsonOption())
    .action(addPeer)
}

async function addPeer(addr: string, args: PeerAddOptions): Promise<void> {
  const client = await ControlClient.connect(resolveNodeHome())
  const result = await client.addPeer(addr, args.port, args.trust)
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
}
