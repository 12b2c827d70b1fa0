import type { Command } from 'commander'
import { ControlClient, NotRunningError } from '../../node/control-client.ts'
import type { DaemonStatus } from '../../node/daemon-status.ts'
import { resolveNodeHome } from '../../node/home.ts'
import { NOT_RUNNING_EXIT_CODE } from '../errors.ts'
import { formatDuration } from '../table.ts'
import { jsonOption } from './shared-options.ts'

export function addStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      `Show the daemon's peer id, addresses, peers, shared blobs and transfers (exit ${NOT_RUNNING_EXIT_CODE} when not running)`,
    )
    .addOption(jsonOption())
    .action(printStatus)
}

async function printStatus(args: { json: boolean }): Promise<void> {
  let status: DaemonStatus
  try {
    status = await (await ControlClient.connect(resolveNodeHome())).status()
  } catch (err) {
    if (!(err instanceof NotRunningError)) throw err
    console.log(args.json ? JSON.stringify({ running: false }) : 'not running')
    process.exitCode = NOT_RUNNING_EXIT_CODE
    return
  }
  if (args.json) {
    console.log(JSON.stringify({ running: true, ...status }, null, 2))
    return
  }
  const ix = status.indexing
  const indexing =
    ix.state === 'running'
      ? `indexing ${ix.filesDone}/${ix.filesTotal} files`
      : ix.state === 'failed'
        ? `indexing failed: ${ix.error ?? ''}`
        : `indexing ${ix.state}`
  console.log(`running (pid ${status.pid}, up ${formatDuration(status.uptimeSeconds)})`)
  console.log(`peer id    ${status.peerId}`)
  console.log(`control    ${status.controlUrl}`)
  for (const addr of status.listen) console.log(`listening  ${addr}`)
  console.log(`peers      ${status.connectedPeers.length} connected, ${status.knownPeers} known`)
  console.log(`blobs      ${status.blobs.shared} shared (${status.blobs.chunks} chunks); ${indexing}`)
  console.log(
    `dht        ${status.dht.mode}, ${status.providedRecords} records provided; mdns ${status.mdns ? 'on' : 'off'}`,
  )
  console.log(`transfers  ${status.transfers.length === 0 ? 'none' : status.transfers.length}`)
  for (const t of status.transfers) {
    const total = t.bytesTotal === null ? '?' : String(t.bytesTotal)
    console.log(
      `  ${t.direction} ${t.repo ?? ''} ${t.path ?? t.etag ?? t.id}: ${t.bytesDone}/${total} bytes, ${t.peers} peers`,
    )
  }
}
