/**
 * chiral-node: relay + DHT server + WebSocket signaling server in one process.
 * Exit codes: 0 after a clean SIGTERM/SIGINT shutdown, 2 for bad
 * configuration, 1 for anything else.
 */
import { ConfigError, helpText, parseConfig } from './config.js'
import { createLog } from './log.js'
import { startNode } from './node-app.js'

const SHUTDOWN_DEADLINE_MS = 4500

async function main (): Promise<number> {
  let parsed
  try {
    parsed = parseConfig(process.argv.slice(2), process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chiral-node: ${err.message}\nRun chiral-node --help for the options.\n`)
      return 2
    }
    throw err
  }
  if (parsed.help) {
    process.stdout.write(helpText() + '\n')
    return 0
  }
  const { config } = parsed
  const log = createLog(config.logLevel)

  let running
  try {
    running = await startNode(config, log)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chiral-node: ${err.message}\n`)
      return 2
    }
    const e = err as NodeJS.ErrnoException
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      process.stderr.write(`chiral-node: cannot listen: ${e.message}\n`)
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

main().then((code) => {
  process.exitCode = code
  // Nothing should keep the loop alive after a clean stop; make sure it ends.
  setTimeout(() => process.exit(code), 200).unref()
}, (err: unknown) => {
  process.stderr.write(`chiral-node: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
