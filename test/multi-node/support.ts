/**
 * Helpers of the multi-instance tests: fixed loopback ports and keys (so an
 * instance can be told another's address before that one starts, and come
 * back at the same address), a node's /health, and polling.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
export { freePort } from '../support/free-port.js'

/** Writes a new node key where `startChiralNode` looks for it (`<workDir>/node.key`); returns its peer id. */
export async function writeNodeKey (workDir: string): Promise<string> {
  mkdirSync(workDir, { recursive: true })
  const key = await generateKeyPair('Ed25519')
  writeFileSync(join(workDir, 'node.key'), privateKeyToProtobuf(key), { mode: 0o600 })
  // An Ed25519 key's string form is its peer id (base58btc of the identity multihash).
  return key.publicKey.toString()
}

export interface Health {
  peerId: string
  signalingUrl: string
  signalingUrls: string[]
  multiaddrs: string[]
  bootstrap: Array<{ multiaddr: string, peerId: string, connected: boolean }>
  counts: Record<string, number>
}

export async function health (httpUrl: string): Promise<Health> {
  const response = await fetch(`${httpUrl}/health`, { signal: AbortSignal.timeout(2000) })
  return await response.json() as Health
}

/** Resolves with the time it took once `check` is true (asked every `every` ms); rejects after `ms`. */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, ms: number, every = 50): Promise<number> {
  const started = Date.now()
  for (;;) {
    let ok = false
    try { ok = await check() } catch {}
    if (ok) return Date.now() - started
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, every))
  }
}

export function sha256File (path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}
