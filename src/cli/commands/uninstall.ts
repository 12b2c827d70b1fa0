import { rm, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
import { NotRunningError } from '../../node/control-client.ts'
import { resolveNodeHome } from '../../node/home.ts'
import { stopDaemon } from '../../node/stop-daemon.ts'
import { resolveHubCacheDir } from '../../store/hf-cache/index.ts'
import { UsageError } from '../errors.ts'

interface UninstallOptions {
  yes: boolean
  purgeCache: boolean
}

export function addUninstallCommand(program: Command): void {
  program
    .command('uninstall')
    .description("Stop the daemon and remove the node's home (the HF cache stays unless --purge-cache)")
    .option('-y, --yes', 'Do not ask for confirmation', false)
    .option(
      '--purge-cache',
      'Also delete the Hugging Face cache (every model huggingface_hub downloaded too)',
      false,
    )
    .action(uninstall)
}

async function uninstall(args: UninstallOptions): Promise<void> {
  const home = resolveNodeHome()
  const cacheDir = resolveHubCacheDir()
  const what = args.purgeCache ? `${home} and the Hugging Face cache ${cacheDir}` : home
  if (!args.yes && !(await confirm(`remove ${what}?`))) {
    console.error('nothing removed')
    return
  }
  // The cache holds models other tools downloaded: ask again, even with --yes, unless on no terminal.
  if (args.purgeCache && process.stdin.isTTY === true && !(await confirm(`really delete ${cacheDir}?`))) {
    console.error('nothing removed')
    return
  }
  try {
    const { pid } = await stopDaemon(home)
    console.log(`stopped the daemon (pid ${pid})`)
  } catch (err) {
    if (!(err instanceof NotRunningError)) throw err
  }
  await rm(home, { recursive: true, force: true })
  console.log(`removed ${home}`)
  if (args.purgeCache && (await stat(cacheDir).catch(() => null)) !== null) {
    await rm(cacheDir, { recursive: true, force: true })
    console.log(`removed ${cacheDir}`)
  }
}

async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true)
    throw new UsageError(`refusing to ${question.replace(/\?$/, '')} without --yes`)
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim())
  } finally {
    rl.close()
  }
}
