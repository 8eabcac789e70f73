/**
 * `chiral share <file…>`: hashes each file (a bar on a terminal), announces
 * it, prints its content id and link, then serves until SIGINT/SIGTERM,
 * reporting each session served. Ending by a signal after everything is
 * shared is the normal end: exit 0. A signal while hashing or announcing
 * ends with 130 (SIGINT) / 143 (SIGTERM).
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { runCommand, withPeer } from '../command-run.js'
import { EXIT, UsageError } from '../exit-codes.js'
import type { PeerFlags } from '../options.js'

export async function shareCommand (files: string[], flags: PeerFlags): Promise<number> {
  return runCommand(flags, async (context) => {
    const checked = await checkFiles(files)
    const { reporter, interrupt } = context
    return withPeer(context, 'share', async (peer) => {
      for (const { path: file, size } of checked) {
        const shared = await peer.share(file, {
          signal: interrupt.signal,
          onProgress: (p) => { reporter.report({ event: 'hashing', file, bytes: p.bytes, total: p.total ?? size }) }
        })
        reporter.report({
          event: 'shared',
          file,
          name: shared.manifest.name,
          size: shared.manifest.size,
          cid: shared.cid,
          ...(shared.link === undefined ? {} : { link: shared.link })
        })
      }
      reporter.report({ event: 'ready', files: checked.length })
      const signal = await interrupt.wait()
      reporter.report({ event: 'stopped', signal })
      return EXIT.ok
    })
  })
}

/** Absolute paths and sizes of the files; `UsageError` for one that is missing or not a file. */
async function checkFiles (files: string[]): Promise<Array<{ path: string, size: number }>> {
  const paths: Array<{ path: string, size: number }> = []
  for (const file of files) {
    const path = resolve(file)
    const info = await stat(path).catch(() => undefined)
    if (info === undefined) throw new UsageError(`no such file: ${file}`)
    if (!info.isFile()) throw new UsageError(`not a file: ${file}`)
    paths.push({ path, size: info.size })
  }
  return paths
}
