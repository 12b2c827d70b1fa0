/**
 * `--include` / `--exclude` as huggingface_hub's `filter_repo_objects` applies them: fnmatch patterns (where
 * `*` also matches `/`), a pattern ending in `/` means everything below that folder.
 */
export function filterPaths(
  paths: readonly string[],
  include?: readonly string[],
  exclude?: readonly string[],
): string[] {
  const inc = (include ?? []).map(fnmatchRegExp)
  const exc = (exclude ?? []).map(fnmatchRegExp)
  return paths.filter((p) => (inc.length === 0 || inc.some((r) => r.test(p))) && !exc.some((r) => r.test(p)))
}

/** Python's fnmatch.translate, for the patterns users write: `*`, `?`, `[seq]`, `[!seq]`. */
export function fnmatchRegExp(pattern: string): RegExp {
  const p = pattern.endsWith('/') ? `${pattern}*` : pattern
  let out = ''
  for (let i = 0; i < p.length; i++) {
    const c = p[i]
    if (c === '*') out += '.*'
    else if (c === '?') out += '.'
    else if (c === '[') {
      const close = p.indexOf(']', i + 2)
      if (close < 0) out += '\\['
      else {
        let body = p.slice(i + 1, close).replace(/\\/g, '\\\\')
        if (body.startsWith('!')) body = `^${body.slice(1)}`
        out += `[${body}]`
        i = close
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${out}$`, 's')
}
