/**
 * The node's whole run: parse flags and environment, start, print the
 * addresses, serve until SIGTERM/SIGINT, stop. Used by `chiral-node`
 * (main.ts) and by `chiral node`.
 *
 * Resolves with the exit code: 0 after a clean SIGTERM/SIGINT shutdown (or
 * `--help`), 2 for bad configuration or a port that cannot be listened on.
 * Anything else rejects.
 */
import { ConfigError, helpText, parseConfig } from './config.js'
import { createLog } from './log.js'
import { startNode } from './node-app.js'

const SHUTDOWN_DEADLINE_MS = 4500

export interface RunNodeOptions {
  /** How the command is called, in messages and `--help` (default `chiral-node`). */
  name?: string
}

export async function runNode (argv: string[], env: NodeJS.ProcessEnv, options: RunNodeOptions = {}): Promise<number> {
  const name = options.name ?? 'chiral-node'
  let parsed
  try {
    parsed = parseConfig(argv, env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\nRun ${name} --help for the options.\n`)
      return 2
    }
    throw err
  }
  if (parsed.help) {
    process.stdout.write(helpText(name) + '\n')
    return 0
  }
  const { config } = parsed
  const log = createLog(config.logLevel)

  let running
  try {
    running = await startNode(config, log)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`)
      return 2
    }
    const e = err as NodeJS.ErrnoException
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      process.stderr.write(`${name}: cannot listen: ${e.message}\n`)
      return 2
    }
    throw err
  }

  process.stdout.write([
    `chiral-node ready — peer id ${running.peerId}`,
    `signaling: ${running.signalingUrl}`,
    ...(config.demoDir === undefined ? [] : [`demo: ${running.signalingUrl.replace(/^ws/, 'http')}/ — open this in a browser`]),
    'libp2p multiaddrs (give these to peers as relays):',
    ...running.multiaddrs.map((a) => `  ${a}`),
    ''
  ].join('\n'))

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => { resolve('SIGTERM') })
    process.once('SIGINT', () => { resolve('SIGINT') })
  })
  log.info('shutting down', { signal })
  const deadline = setTimeout(() => {
    log.error('shutdown took too long; exiting')
    process.exit(1)
  }, SHUTDOWN_DEADLINE_MS)
  deadline.unref()
  await running.stop()
  clearTimeout(deadline)
  log.info('stopped')
  return 0
}
