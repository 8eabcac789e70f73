import { createServer } from 'node:net'
import { InvalidArgumentError } from '../../errors.js'

/**
 * Ports a punch port is picked from when none is configured: below Linux's
 * ephemeral range (32768–60999), so no socket the kernel numbers itself
 * (any process's outbound connection) can take it later.
 */
export const PUNCH_PORT_RANGE = { min: 20_000, max: 32_767 } as const

/**
 * A TCP port nothing on this host listens on, for the node's outbound TCP
 * connections. Probed by listening on it once; a port that something else
 * binds later (without SO_REUSEADDR) makes this node's TCP dials fail with
 * EADDRINUSE, so a fixed `port` is better where the host is managed.
 */
export async function pickPunchPort (tries = 20, random = Math.random): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const port = PUNCH_PORT_RANGE.min + Math.floor(random() * (PUNCH_PORT_RANGE.max - PUNCH_PORT_RANGE.min + 1))
    if (await isFree(port)) return port
  }
  throw new InvalidArgumentError(`No free TCP port for direct TCP found in ${tries} tries`)
}

async function isFree (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => { resolve(false) })
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => {
      server.close(() => { resolve(true) })
    })
  })
}
