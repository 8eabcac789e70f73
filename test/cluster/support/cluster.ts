/**
 * Three chiral-node processes sharing one test Redis, and the helpers the
 * cluster tests poll with.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startChiralNode } from '../../browser/support/node-process.js'
import type { ChiralNodeProcess } from '../../browser/support/node-process.js'

export const NODE_BUNDLE = fileURLToPath(new URL('../../../apps/node/dist/chiral-node.mjs', import.meta.url))

export interface Instance {
  name: string
  node: ChiralNodeProcess
  url: string
  httpUrl: string
  workDir: string
}

export async function startInstance (name: string, redisUrl: string, presenceTtl: number): Promise<Instance> {
  const workDir = mkdtempSync(join(tmpdir(), `chiral-cluster-${name}-`))
  const node = await startChiralNode({
    bundle: NODE_BUNDLE,
    host: '127.0.0.1',
    workDir,
    args: ['--redis-url', redisUrl, '--instance-id', name, '--redis-presence-ttl', String(presenceTtl), '--datastore', 'memory']
  })
  return { name, node, url: node.signalingUrl, httpUrl: node.signalingUrl.replace(/^ws/, 'http'), workDir }
}

export async function stopInstance (instance: Instance | undefined): Promise<void> {
  if (instance === undefined) return
  await instance.node.stop()
  rmSync(instance.workDir, { recursive: true, force: true })
}

export interface ClusterHealth { mode: string, instanceId?: string, connected?: boolean, state?: string }

export async function clusterHealth (instance: Instance): Promise<ClusterHealth> {
  const res = await fetch(`${instance.httpUrl}/health`)
  return ((await res.json()) as { cluster: ClusterHealth }).cluster
}

/** Polls `check` until it returns true; throws `what` after `timeoutMs`. */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 50): Promise<number> {
  const start = Date.now()
  for (;;) {
    if (await check()) return Date.now() - start
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

export function sameMembers (actual: Iterable<string>, expected: Iterable<string>): boolean {
  const a = new Set(actual)
  const e = new Set(expected)
  return a.size === e.size && [...e].every((id) => a.has(id))
}
