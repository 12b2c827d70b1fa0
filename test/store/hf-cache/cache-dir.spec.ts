import assert from 'node:assert/strict'
import { homedir } from 'node:os'
import { expandPath, resolveHubCacheDir } from '../../../src/store/hf-cache/index.ts'

describe('hf-cache resolveHubCacheDir', () => {
  const HOME = '/home/tester'

  it('defaults to ~/.cache/huggingface/hub', () => {
    assert.equal(resolveHubCacheDir({ HOME }), '/home/tester/.cache/huggingface/hub')
  })

  it('follows XDG_CACHE_HOME, then HF_HOME', () => {
    assert.equal(resolveHubCacheDir({ HOME, XDG_CACHE_HOME: '/xdg' }), '/xdg/huggingface/hub')
    assert.equal(resolveHubCacheDir({ HOME, XDG_CACHE_HOME: '/xdg', HF_HOME: '/hf' }), '/hf/hub')
  })

  it('prefers HF_HUB_CACHE over HUGGINGFACE_HUB_CACHE over HF_HOME', () => {
    const env = { HOME, HF_HOME: '/hf', HUGGINGFACE_HUB_CACHE: '/legacy' }
    assert.equal(resolveHubCacheDir(env), '/legacy')
    assert.equal(resolveHubCacheDir({ ...env, HF_HUB_CACHE: '/new' }), '/new')
  })

  it('expands ~ and $VAR like Python', () => {
    assert.equal(resolveHubCacheDir({ HOME, HF_HOME: '~/hf' }), '/home/tester/hf/hub')
    assert.equal(resolveHubCacheDir({ HOME, HF_HUB_CACHE: '~' }), '/home/tester')
    assert.equal(resolveHubCacheDir({ HOME, DATA: '/data', HF_HUB_CACHE: '$DATA/hub' }), '/data/hub')
    assert.equal(resolveHubCacheDir({ HOME, DATA: '/data', HF_HOME: '${DATA}/x' }), '/data/x/hub')
    assert.equal(resolveHubCacheDir({ HOME, XDG_CACHE_HOME: '~/xdg' }), '/home/tester/xdg/huggingface/hub')
    // Unknown variables stay as they are, like os.path.expandvars.
    assert.equal(resolveHubCacheDir({ HOME, HF_HUB_CACHE: '/a/$NOPE/${ALSO_NOPE}' }), '/a/$NOPE/${ALSO_NOPE}')
  })

  it('treats empty variables as unset and returns an absolute path', () => {
    assert.equal(
      resolveHubCacheDir({ HOME, HF_HUB_CACHE: '', HF_HOME: '' }),
      '/home/tester/.cache/huggingface/hub',
    )
    assert.equal(resolveHubCacheDir({ HOME, HF_HUB_CACHE: 'rel/hub' }), `${process.cwd()}/rel/hub`)
  })

  it('expands ~user only for the current user, like expanduser', () => {
    assert.equal(expandPath('~nosuchuser-xyz/a', { HOME }), '~nosuchuser-xyz/a')
    assert.equal(expandPath('~/', { HOME: '/' }), '/')
    assert.equal(expandPath('~', {}), homedir())
  })
})
