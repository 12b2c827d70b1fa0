import type { Command } from 'commander'
import { resolveNodeHome } from '../../node/home.ts'
import { NotRunningError } from '../../node/control-client.ts'
import { modelAddViaDaemon } from '../../node/model-add-client.ts'
import type { PullProgress, PullResult } from '../../node/pull/pull-snapshot.ts'
import { hubConfigFromEnv } from '../../protocols/hub/hub-config.ts'
// The modules themselves, not the hf-cache index: it loads the whole store (~40 modules) for two names.
import { validateRepoId, type RepoType } from '../../store/hf-cache/repo.ts'
import { createProgressBar, formatBytes } from '../progress.ts'
import { repoTypeOption } from './shared-options.ts'

interface AddOptions {
  revision: string
  repoType: RepoType
  include?: string[]
  exclude?: string[]
  quiet: boolean
  json: boolean
}

export function addModelAddCommand(model: Command): void {
  model
    .command('add')
    .description('Download a repo (or some of its files) into the Hugging Face cache')
    .argument('<repo_id>', 'e.g. org/name')
    .argument('[files...]', 'Only these files (default: the whole repo)')
    .option('--revision <rev>', 'Branch, tag, refs/pr/N or commit', 'main')
    .addOption(repoTypeOption())
    .option('--include <pattern...>', 'Only files matching these patterns (fnmatch)')
    .option('--exclude <pattern...>', 'Skip files matching these patterns (fnmatch)')
    .option('--quiet', 'No progress output', false)
    .option('--json', 'Print the result as JSON', false)
    .action(addModel)
}

async function addModel(repoId: string, files: string[], args: AddOptions): Promise<void> {
  const repo = { type: args.repoType, id: validateRepoId(repoId) }
  const home = resolveNodeHome()
  const bar = createProgressBar({ title: repo.id, quiet: args.quiet })
  const abort = new AbortController()
  const onSigint = (): void => abort.abort(new Error('interrupted'))
  process.once('SIGINT', onSigint)
  const request = {
    repo,
    revision: args.revision,
    files,
    include: args.include,
    exclude: args.exclude,
    hub: hubConfigFromEnv(),
  }
  const onProgress = (p: PullProgress): void =>
    bar.update(p.bytesDone, p.bytesTotal, `${p.filesDone}/${p.filesTotal} files`)
  try {
    const started = Date.now()
    let result: PullResult
    try {
      // With a daemon running, the pull goes through it and the swarm.
      result = await modelAddViaDaemon(
        home,
        request,
        (e) => {
          if (e.type === 'progress') onProgress(e.progress)
        },
        abort.signal,
      )
    } catch (err) {
      if (!(err instanceof NotRunningError)) throw err
      // The pull's own modules (the store, the Hub client, node:sqlite: ~60 ms) load only for this path.
      const { pullInProcess } = await import('./model-add-local.ts')
      result = await pullInProcess(home, request, onProgress, abort.signal)
    }
    const secs = (Date.now() - started) / 1000
    bar.done()
    if (args.json) {
      console.log(JSON.stringify(result, null, 2))
      return
    }
    const got = result.files.filter((f) => f.downloaded).length
    if (!args.quiet) {
      console.log(
        `${repo.id}@${result.commit.slice(0, 8)}: ${result.files.length} files, ${got} downloaded ` +
          `(${formatBytes(result.bytesFetched)} in ${secs.toFixed(1)}s: ${formatBytes(result.bytesFromPeers)} from peers, ` +
          `${formatBytes(result.bytesFromHub)} from the Hub), ${result.files.length - got} already cached`,
      )
    }
  } finally {
    process.off('SIGINT', onSigint)
  }
}
