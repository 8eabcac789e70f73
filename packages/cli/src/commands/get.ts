/**
 * `chiral get <id | link> [-o dir]`: finds providers, races the paths,
 * verifies every chunk and puts the file in `dir` (default: the current
 * directory). While it arrives the file is `<name>.part` with a resume
 * record beside it; a fetch that fails or is interrupted leaves both, and the
 * same command run again continues from the verified chunks: the `.part` is
 * named after the manifest's file name in the same directory, so a re-run
 * finds it. Only the finished file's name avoids an existing file
 * (`name (1).ext`) unless `--overwrite`.
 */
import { resolve } from 'node:path'
import { contentIdOf } from '@chiral/peer'
import { runCommand, withPeer } from '../command-run.js'
import { EXIT } from '../exit-codes.js'
import { rateOf } from '../format.js'
import { seconds } from '../options.js'
import type { PeerFlags } from '../options.js'

export interface GetFlags extends PeerFlags {
  output?: string
  overwrite?: boolean
  findTimeout?: string
}

export async function getCommand (input: string, flags: GetFlags): Promise<number> {
  return runCommand(flags, async (context) => {
    const cid = contentIdOf(input)
    const findTimeout = seconds('--find-timeout', flags.findTimeout)
    const destination = resolve(flags.output ?? '.')
    const { reporter, interrupt } = context
    return withPeer(context, 'get', async (peer) => {
      const result = await peer.fetch(cid, {
        destination,
        signal: interrupt.signal,
        ...(flags.overwrite === true ? { overwrite: true } : {}),
        ...(findTimeout === undefined ? {} : { findTimeout }),
        onProgress: (p) => {
          reporter.report({ event: 'progress', cid, bytes: p.bytes, total: p.total, rate: p.rate, method: p.method, state: p.state ?? 'fetching' })
        }
      })
      reporter.report({
        event: 'done',
        cid,
        name: result.name,
        path: result.path ?? destination,
        method: result.method,
        bytes: result.bytes,
        transferredBytes: result.transferredBytes,
        resumedBytes: result.resumedBytes,
        bytesByMethod: result.bytesByMethod,
        durationMs: result.durationMs,
        rate: rateOf(result.transferredBytes, result.durationMs),
        switches: result.switches.filter((s) => s.from !== undefined).length,
        recoveries: result.recoveries.length
      })
      return EXIT.ok
    })
  }, { interruptedNote: 'run the same command again to resume' })
}
