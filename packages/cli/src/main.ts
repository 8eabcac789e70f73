/**
 * chiral: share files, fetch them by content id or link, or run a node.
 *
 *   chiral share <file…>             serve until Ctrl-C
 *   chiral get <id | link> [-o dir]  fetch, verify, resume on a re-run
 *   chiral node [node flags…]        the relay + DHT + signaling node
 *
 * Exit codes: see exit-codes.ts.
 */
import { Command, CommanderError } from 'commander'
import pkg from '../package.json' with { type: 'json' }
import { getCommand } from './commands/get.js'
import { nodeCommand } from './commands/node.js'
import { shareCommand } from './commands/share.js'
import { EXIT } from './exit-codes.js'
import { writeFailure } from './failure.js'
import { withPeerOptions } from './options.js'
import type { GetFlags } from './commands/get.js'
import type { PeerFlags } from './options.js'

/** The command line, wired; `done` receives the exit code of the command that ran. */
function createProgram (done: (code: number) => void): Command {
  const program = new Command('chiral')
    .description('Share files peer to peer and fetch them by content id or link')
    .version(pkg.version)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => { write(`chiral: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`) } })

  withPeerOptions(program.command('share')
    .description('share files: print each one\'s content id and link, then serve them until Ctrl-C')
    .argument('<files...>', 'files to share'))
    .action(async (files: string[], flags: PeerFlags) => { done(await shareCommand(files, flags)) })

  withPeerOptions(program.command('get')
    .description('fetch a file by content id or share link; run it again to resume')
    .argument('<id>', 'a content id or a share link')
    .option('-o, --output <dir>', 'directory for the file (default: the current one)')
    .option('--overwrite', 'replace a file of the same name instead of picking "name (1).ext"')
    .option('--find-timeout <seconds>', 'how long to look for providers (default 30)'))
    .action(async (id: string, flags: GetFlags) => { done(await getCommand(id, flags)) })

  program.command('node')
    .description('run a node: libp2p relay + DHT server + signaling server (chiral node --help for its flags)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[flags...]', 'the node\'s flags')
    .action(async (args: string[]) => { done(await nodeCommand(args)) })
  return program
}

async function main (argv: string[]): Promise<number> {
  let code: number = EXIT.ok
  try {
    await createProgram((c) => { code = c }).parseAsync(argv)
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err
    // Help and version print and end with 0; every other commander error is a usage error (already printed).
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage
  }
  return code
}

// The process ends by itself once the command's peer or node has stopped: nothing forces it.
main(process.argv).then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  writeFailure(process.stderr, (err as Error).stack ?? String(err))
  process.exitCode = EXIT.failed
})
