import assert from 'node:assert/strict'
import { parseRepoFolderName, repoFolderName, validateRepoId } from '../../../src/store/hf-cache/index.ts'

describe('hf-cache repo names', () => {
  it('names repo folders like huggingface_hub', () => {
    assert.equal(
      repoFolderName({ type: 'model', id: 'julien-c/EsperBERTo-small' }),
      'models--julien-c--EsperBERTo-small',
    )
    assert.equal(repoFolderName({ type: 'dataset', id: 'glue' }), 'datasets--glue')
    assert.equal(
      repoFolderName({ type: 'space', id: 'dalle-mini/dalle-mini' }),
      'spaces--dalle-mini--dalle-mini',
    )
  })

  it('parses repo folder names back', () => {
    assert.deepEqual(parseRepoFolderName('models--julien-c--EsperBERTo-small'), {
      type: 'model',
      id: 'julien-c/EsperBERTo-small',
    })
    assert.deepEqual(parseRepoFolderName('datasets--glue'), { type: 'dataset', id: 'glue' })
    assert.deepEqual(parseRepoFolderName('spaces--a--b'), { type: 'space', id: 'a/b' })
    for (const bad of [
      'glue',
      'kernels--a--b',
      'models--',
      'models--a--b--c',
      'model--a',
      '.locks',
      'models--a b',
    ]) {
      assert.equal(parseRepoFolderName(bad), null, bad)
    }
  })

  it('accepts the ids huggingface_hub accepts', () => {
    for (const id of ['foo', 'foo/bar', '123', 'Foo-BAR_foo.bar123', 'a/' + 'b'.repeat(96)]) {
      assert.equal(validateRepoId(id), id)
    }
  })

  it('refuses the ids huggingface_hub refuses, with a named error', () => {
    const bad = [
      '',
      'datasets/foo/bar',
      '.repo_id',
      'repo_id.',
      '-foo',
      'foo--bar',
      'other..repo',
      'foo.git',
      'a/' + 'b'.repeat(97),
      'café',
      'a b',
      '/foo',
      'foo/',
      '../x',
      'a\\b',
    ]
    for (const id of bad) {
      assert.throws(() => validateRepoId(id), { name: 'InvalidRepoIdError' }, id)
    }
    assert.throws(() => repoFolderName({ type: 'model', id: 'a/../../b' }), { name: 'InvalidRepoIdError' })
    // @ts-expect-error: a type the cache does not know
    assert.throws(() => repoFolderName({ type: 'kernel', id: 'a/b' }), { name: 'InvalidRepoIdError' })
  })
})
