/**
 * A WebRTC fetch between two peer processes (Chiral's WebRTC path over a
 * chosen signaling backend, or libp2p's WebRTC), with the public side
 * (relay + signaling server) in a third:
 *
 * ```
 *   hub: core `server` node (relay) + WebSocket signaling server
 *     ▲                    ▲
 *   provider ◄──WebRTC──► fetcher       signaling over the chosen backend
 * ```
 *
 * Where each process runs is up to `spawn` (one network namespace for the
 * loopback tests; the NAT lab puts the hub in `pub` and the peers behind
 * their routers). Returns what every process reported.
 */
import { fileURLToPath } from 'node:url'
import { JsonLines } from './json-lines.js'
import type { SignalingBackend } from './signaling-backends.js'
import type { FetcherResult, PeerOptions, ProviderReady, ProviderResult } from './webrtc-fetch-peer.js'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'

export const HUB_SCRIPT = fileURLToPath(new URL('./signaling-hub.ts', import.meta.url))
export const PEER_SCRIPT = fileURLToPath(new URL('./webrtc-fetch-peer.ts', import.meta.url))

export type ScenarioRole = 'hub' | 'provider' | 'fetcher'

/** Starts `node … script …args` where `role` is to run. */
export type ScenarioSpawn = (role: ScenarioRole, script: string, args: string[]) => ChildProcessWithoutNullStreams

export interface FetchScenarioInit {
  /** Chiral's WebRTC path (default) or libp2p's (`backend` is then unused). */
  path?: 'webrtc' | 'libp2p-webrtc'
  backend: SignalingBackend
  spawn: ScenarioSpawn
  /** Address the hub listens on, reachable by both peers. */
  hubAddress: string
  /** File size (default 8 MiB). */
  size?: number
  /** Whether peers reserve a slot on the hub's relay (default true; the libp2p route needs it). */
  useRelay?: boolean
  iceServers?: RTCIceServer[]
  connectTimeout?: number
}

export interface FetchScenarioResult {
  ready: ProviderReady
  provider: ProviderResult
  fetcher: FetcherResult
  hub: { messagesRouted: number }
}

export async function runFetchScenario (init: FetchScenarioInit): Promise<FetchScenarioResult> {
  const children: JsonLines[] = []
  const start = (role: ScenarioRole, script: string, args: string[]): JsonLines => {
    const child = new JsonLines(role, init.spawn(role, script, args))
    children.push(child)
    return child
  }
  try {
    const hub = start('hub', HUB_SCRIPT, [init.hubAddress])
    const { relay, url } = await hub.next<{ relay: string, url: string }>('ready', 30_000)
    const common: Omit<PeerOptions, 'role'> = {
      path: init.path ?? 'webrtc',
      backend: init.backend,
      ...(init.useRelay === false ? {} : { relay }),
      ...(init.backend === 'libp2p' ? {} : { url }),
      ...(init.iceServers == null ? {} : { iceServers: init.iceServers }),
      ...(init.connectTimeout == null ? {} : { connectTimeout: init.connectTimeout })
    }
    const provider = start('provider', PEER_SCRIPT, [JSON.stringify({ ...common, role: 'provide', size: init.size ?? 8 * 1024 * 1024 } satisfies PeerOptions)])
    const ready = await provider.next<ProviderReady>('ready', 60_000)
    const fetcher = start('fetcher', PEER_SCRIPT, [JSON.stringify({ ...common, role: 'fetch', provider: ready.peerId, multiaddrs: ready.multiaddrs, cid: ready.cid } satisfies PeerOptions)])
    const fetched = await fetcher.next<FetcherResult>('result', 100_000)
    const provided = await provider.finish<ProviderResult>()
    const hubResult = await hub.finish<{ messagesRouted: number }>()
    return { ready, provider: provided, fetcher: fetched, hub: hubResult }
  } finally {
    for (const child of children) child.kill()
  }
}
