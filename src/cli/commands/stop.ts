import type { Command } from 'commander'
import { NotRunningError } from '../../node/control-client.ts'
import { resolveNodeHome } from '../../node/home.ts'
import { stopDaemon } from '../../node/stop-daemon.ts'

export function addStopCommand(program: Command): void {
  program
    .command('stop')
    .description('Stop the daemon gracefully and wait until it has exited (exit 0 also when none runs)')
    .action(stop)
}

async function stop(): Promise<void> {
  try {
    const { pid } = await stopDaemon(resolveNodeHome())
    console.log(`stopped (pid ${pid})`)
  } catch (err) {
    if (!(err instanceof NotRunningError)) throw err
    console.log('not running')
  }
}
