import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, type CliResult } from '../helpers/run-cli.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

describe('hffs-node argument parsing', function () {
  const tmp = useTmpDir()
  const env = (): NodeJS.ProcessEnv => ({
    HFFS_HOME: join(tmp(), 'home'),
    HF_HUB_CACHE: join(tmp(), 'cache'),
  })

  /** Runs a command line that must be refused before any work: exit 2, one line on stderr, nothing else. */
  async function usageError(args: string[]): Promise<string> {
    const r = await runCli(args, env())
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.equal(r.stdout, '')
    const lines = r.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0], /^hffs-node: \S/)
    await assert.rejects(stat(join(tmp(), 'home')), { code: 'ENOENT' }, 'the node home was touched')
    return lines[0]
  }

  async function help(args: string[]): Promise<CliResult> {
    const r = await runCli(args, env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    return r
  }

  it('refuses an unknown command', async () => {
    assert.match(await usageError(['frobnicate']), /unknown command 'frobnicate'/)
  })

  it('refuses a command line without a command', async () => {
    assert.match(await usageError([]), /name a command/)
  })

  it('refuses an unknown option', async () => {
    assert.match(await usageError(['status', '--frobnicate']), /unknown option '--frobnicate'/)
    assert.match(await usageError(['--frobnicate']), /unknown option '--frobnicate'/)
  })

  it('refuses a missing argument', async () => {
    assert.match(await usageError(['model', 'add']), /missing required argument 'repo_id'/)
    assert.match(await usageError(['peer', 'rm']), /missing required argument 'addr'/)
  })

  it('refuses a value that is not among the choices', async () => {
    const line = await usageError(['model', 'add', 'org/m', '--repo-type', 'nope'])
    assert.match(line, /--repo-type/)
    assert.match(line, /model, dataset, space/)
  })

  it('refuses a number option that is not a number', async () => {
    assert.match(await usageError(['start', '--port', 'abc', '--no-mdns']), /--port.*'abc'/)
    assert.match(await usageError(['start', '--max-upload-rate', '1x', '--no-mdns']), /--max-upload-rate/)
    assert.match(await usageError(['peer', 'add', '127.0.0.1', '--port', '']), /--port/)
  })

  it('refuses a command group without its subcommand', async () => {
    assert.match(await usageError(['model']), /name a model command: ls, add or rm/)
    assert.match(await usageError(['peer']), /name a peer command: add, ls or rm/)
    assert.match(await usageError(['swarm-key']), /name a swarm-key command: generate/)
    assert.match(await usageError(['model', 'frobnicate']), /unknown command 'frobnicate'/)
  })

  it('refuses arguments a command does not take', async () => {
    assert.match(await usageError(['model', 'ls', 'org/m']), /too many arguments/)
  })

  it('prints help on stdout and exits 0', async () => {
    const top = await help(['--help'])
    for (const name of ['start', 'stop', 'status', 'peer', 'model', 'uninstall', 'swarm-key'])
      assert.match(top.stdout, new RegExp(`^  ${name}\\b`, 'm'), name)
    const model = await help(['model', '--help'])
    for (const name of ['ls', 'add', 'rm']) assert.match(model.stdout, new RegExp(`^  ${name}\\b`, 'm'), name)
    const add = await help(['model', 'add', '-h'])
    for (const option of ['--revision', '--repo-type', '--include', '--exclude', '--quiet', '--json'])
      assert.match(add.stdout, new RegExp(option), option)
    assert.match((await help(['start', '--help'])).stdout, /--mdns .*--no-mdns/)
  })
})
