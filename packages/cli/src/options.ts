/**
 * The flags `share` and `get` take to reach the network, with the demo's
 * names and environment variables. A flag wins over its variable, which wins
 * over the default.
 *
 *   --signaling <url>      CHIRAL_SIGNALING     default ws://127.0.0.1:9000
 *   --relay <multiaddr>    CHIRAL_RELAYS        comma-separated; default: asked from the node
 *   --ice-server <url>     CHIRAL_ICE_SERVERS   comma-separated; default: the peer's
 *   --listen <multiaddr>   CHIRAL_LISTEN        comma-separated; direct listen addresses (default none)
 *   --no-direct            relay only
 *   --json | --quiet       how the command reports (see output.ts)
 */
import { Option } from 'commander'
import { UsageError } from './exit-codes.js'
import type { OutputMode } from './output.js'
import type { PeerInit } from '@chiral/peer'
import type { Command } from 'commander'

export const DEFAULT_SIGNALING = 'ws://127.0.0.1:9000'

/** What commander hands a command's action for these flags. */
export interface PeerFlags {
  signaling?: string
  relay?: string[]
  iceServer?: string[]
  listen?: string[]
  direct: boolean
  json?: boolean
  quiet?: boolean
}

export interface PeerSettings {
  /** The signaling URL in use (named in errors). */
  signaling: string
  init: PeerInit
}

function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** Adds the network and output flags to a command. */
export function withPeerOptions (command: Command): Command {
  return command
    .option('--signaling <url>', `the node's signaling server (default ${DEFAULT_SIGNALING}) [env CHIRAL_SIGNALING]`)
    .option('--relay <multiaddr>', 'a relay, ending in /p2p/<peer id>; repeatable (default: asked from the node) [env CHIRAL_RELAYS, comma-separated]', collect)
    .option('--ice-server <url>', 'a STUN/TURN server for the direct path (turn:user:pass@host:port); repeatable [env CHIRAL_ICE_SERVERS, comma-separated]', collect)
    .option('--listen <multiaddr>', 'also listen directly here, e.g. /ip4/0.0.0.0/tcp/4010 on a public address (AutoNAT checks it); repeatable [env CHIRAL_LISTEN, comma-separated]', collect)
    .option('--no-direct', 'relay only: no direct WebRTC path')
    .addOption(new Option('--json', 'one JSON event per line on stdout').conflicts('quiet'))
    .option('--quiet', 'print only the results and errors')
}

/** The peer's settings from the flags and the environment; throws `UsageError` for a bad value. */
export function peerSettings (flags: PeerFlags, env: NodeJS.ProcessEnv): PeerSettings {
  const signaling = flags.signaling ?? nonEmpty(env.CHIRAL_SIGNALING) ?? DEFAULT_SIGNALING
  checkSignaling(signaling)
  const relays = flags.relay ?? list(env.CHIRAL_RELAYS)
  for (const r of relays) checkRelay(r)
  const ice = flags.iceServer ?? list(env.CHIRAL_ICE_SERVERS)
  const listen = flags.listen ?? list(env.CHIRAL_LISTEN)
  for (const l of listen) {
    if (!l.startsWith('/')) throw new UsageError(`--listen must be a multiaddr, got "${l}"`)
  }
  return {
    signaling,
    init: {
      signaling,
      ...(relays.length > 0 ? { relays } : {}),
      ...(ice.length > 0 ? { iceServers: ice.map(iceServer) } : {}),
      ...(listen.length > 0 ? { listen } : {}),
      direct: flags.direct
    }
  }
}

/** `--json`, `--quiet` or neither. */
export function outputMode (flags: Pick<PeerFlags, 'json' | 'quiet'>): OutputMode {
  return flags.json === true ? 'json' : flags.quiet === true ? 'quiet' : 'human'
}

/** A positive number of seconds as milliseconds; throws `UsageError` otherwise. */
export function seconds (flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(n > 0)) throw new UsageError(`${flag} must be a number of seconds, got "${text}"`)
  return n * 1000
}

function nonEmpty (text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text.trim()
}

function list (text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)
}

function checkSignaling (url: string): void {
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    throw new UsageError(`--signaling must be a ws:// or wss:// URL, got "${url}"`)
  }
  if (protocol !== 'ws:' && protocol !== 'wss:') throw new UsageError(`--signaling must be a ws:// or wss:// URL, got "${url}"`)
}

function checkRelay (addr: string): void {
  if (!addr.startsWith('/') || !/\/p2p\/[^/]+$/.test(addr)) {
    throw new UsageError(`--relay must be a multiaddr ending in /p2p/<peer id>, got "${addr}"`)
  }
}

/** `stun:host:port`, `turn:host:port`, or with credentials `turn:user:pass@host:port`. */
function iceServer (url: string): RTCIceServer {
  const m = /^(stuns?|turns?):(.+)$/.exec(url)
  if (m === null) throw new UsageError(`--ice-server must be a stun: or turn: URL, got "${url}"`)
  const [, scheme, rest] = m as unknown as [string, string, string]
  const at = rest.lastIndexOf('@')
  if (at < 0) return { urls: url }
  const [username, ...password] = rest.slice(0, at).split(':')
  return { urls: `${scheme}:${rest.slice(at + 1)}`, username: username ?? '', credential: password.join(':') }
}
