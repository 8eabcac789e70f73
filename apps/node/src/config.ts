import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_CHUNK_SIZE } from '@chiral/core'
import { multiaddr } from '@multiformats/multiaddr'

/** Everything the node can be told, after defaults, environment and flags. */
export interface NodeConfig {
  /** Signaling WebSocket + HTTP (/health, /metrics) port. */
  port: number
  host: string
  tcpPort: number
  wsPort: number
  /** Multiaddrs peers should use (derived from publicIp when given). */
  announce: string[]
  /** Other node instances (multiaddrs ending in /p2p/<peer id>) kept connected: one DHT, relays that reach each other's peers. */
  bootstrap: string[]
  /** This node's signaling URLs as clients reach them (reported at /health); empty: derived from the host and port. */
  signalingUrls: string[]
  keyFile: string
  /** Where DHT provider records and the peer store live. */
  datastore: DatastoreSetting
  logLevel: LogLevel
  allowPrivateAddresses: boolean
  /** Folder of a built web app (the demo) to serve over HTTP; undefined serves none. */
  demoDir?: string
  /** Relay limits per relayed connection: bytes, ms, bytes per second each way (`Infinity`: none). */
  relay: { maxReservations: number, maxReservationsPerIp: number, dataLimit: number, durationLimit: number, rateLimit: number }
  /** DHT provider records kept from one peer, and in all (see provider-caps.ts). */
  dht: { maxRecordsPerPeer: number, maxRecords: number }
  /** /health and /metrics requests per second per source address (bursts of twice that). */
  httpRateLimit: number
  signaling: {
    maxClients: number
    maxMessageBytes: number
    ratePerSecond: number
    rateBurst: number
    heartbeatInterval: number
    maxSendBuffer: number
    allowAnonymous: boolean
  }
  /** Signaling shared with other instances through Redis; undefined runs alone. */
  redis?: RedisSetting
}

export interface RedisSetting {
  /** redis:// or rediss:// URL, password included. */
  url: string
  /** This instance's name in Redis (undefined: random at each start). */
  instanceId?: string
  keyPrefix: string
  /** ms an instance's clients stay listed after it stops refreshing them. */
  presenceTtl: number
}

/**
 * `fs`: a folder, so provider records survive a restart (peers re-announce
 * only every 10 minutes, or when they notice the node came back).
 * `memory`: gone at every restart.
 */
export type DatastoreSetting = { kind: 'fs', path: string } | { kind: 'memory' }

/** The datastore folder's name when none is configured: next to the key file. */
export const DEFAULT_DATASTORE_DIR = 'chiral-node.datastore'

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug']

/** A configuration problem: printed as one line, exit code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

interface Option {
  flag: string
  env: string
  type: 'string' | 'boolean'
  help: string
  default?: string
  /** The flag may be given more than once (its environment variable: comma-separated). */
  multiple?: boolean
}

/** Flags win over environment variables, which win over defaults. */
export const OPTIONS: readonly Option[] = [
  { flag: 'port', env: 'PORT', type: 'string', default: '9000', help: 'signaling WebSocket and HTTP (/health, /metrics) port' },
  { flag: 'host', env: 'HOST', type: 'string', default: '0.0.0.0', help: 'address the signaling/HTTP server and libp2p listen on' },
  { flag: 'tcp-port', env: 'CHIRAL_TCP_PORT', type: 'string', default: '4001', help: 'libp2p TCP port' },
  { flag: 'ws-port', env: 'CHIRAL_WS_PORT', type: 'string', default: '4002', help: 'libp2p WebSockets port' },
  { flag: 'public-ip', env: 'CHIRAL_PUBLIC_IP', type: 'string', help: "this machine's public IPv4/IPv6 address; announced to peers" },
  { flag: 'announce', env: 'CHIRAL_ANNOUNCE', type: 'string', help: 'comma-separated multiaddrs to announce (overrides --public-ip)' },
  { flag: 'bootstrap', env: 'CHIRAL_BOOTSTRAP', type: 'string', multiple: true, help: "another node instance's multiaddr (…/p2p/<peer id>) to keep connected: one DHT across instances; repeatable, env comma-separated" },
  { flag: 'signaling-url', env: 'CHIRAL_SIGNALING_URL', type: 'string', multiple: true, help: "a ws:// or wss:// URL clients reach this node's signaling server at, reported at /health; repeatable, env comma-separated (default ws://<announced or listen host>:<port>)" },
  { flag: 'key-file', env: 'CHIRAL_KEY_FILE', type: 'string', default: 'chiral-node.key', help: 'private key file; created (mode 0600) on first run so the peer id survives restarts' },
  { flag: 'datastore', env: 'CHIRAL_DATASTORE', type: 'string', help: `folder for DHT provider records and the peer store, kept across restarts; 'memory' keeps them in memory only (default ${DEFAULT_DATASTORE_DIR} next to the key file)` },
  { flag: 'log-level', env: 'LOG_LEVEL', type: 'string', default: 'info', help: 'error | warn | info | debug' },
  { flag: 'allow-private-addresses', env: 'CHIRAL_ALLOW_PRIVATE_ADDRESSES', type: 'boolean', help: 'hand out private/loopback addresses in the DHT (LANs, labs, tests)' },
  { flag: 'demo-dir', env: 'CHIRAL_DEMO_DIR', type: 'string', help: 'folder of the built demo web app to serve on the HTTP port (e.g. apps/demo/dist)' },
  { flag: 'relay-max-reservations', env: 'CHIRAL_RELAY_MAX_RESERVATIONS', type: 'string', default: '256', help: 'relay reservations held at once' },
  { flag: 'relay-max-reservations-per-ip', env: 'CHIRAL_RELAY_MAX_RESERVATIONS_PER_IP', type: 'string', default: '32', help: "relay reservations held at once by peers from one IP address ('unlimited' allowed)" },
  { flag: 'relay-data-limit', env: 'CHIRAL_RELAY_DATA_LIMIT', type: 'string', default: '4GiB', help: "bytes per relayed connection (e.g. 512MiB, 4GiB, 'unlimited')" },
  { flag: 'relay-duration-limit', env: 'CHIRAL_RELAY_DURATION_LIMIT', type: 'string', default: '3600', help: "seconds per relayed connection ('unlimited' allowed)" },
  { flag: 'relay-rate-limit', env: 'CHIRAL_RELAY_RATE_LIMIT', type: 'string', default: 'unlimited', help: "bytes per second per relayed connection, each direction (e.g. 10MiB, 'unlimited')" },
  { flag: 'dht-max-records-per-peer', env: 'CHIRAL_DHT_MAX_RECORDS_PER_PEER', type: 'string', default: '1000', help: 'DHT provider records kept from one peer; more are dropped until some expire' },
  { flag: 'dht-max-records', env: 'CHIRAL_DHT_MAX_RECORDS', type: 'string', default: '100000', help: 'DHT provider records kept in all; more are dropped until some expire' },
  { flag: 'http-rate-limit', env: 'CHIRAL_HTTP_RATE_LIMIT', type: 'string', default: '10', help: '/health and /metrics requests per second per source address (bursts of twice that); more get 429' },
  { flag: 'signaling-max-clients', env: 'CHIRAL_SIGNALING_MAX_CLIENTS', type: 'string', default: '10000', help: 'signaling connections at most' },
  { flag: 'signaling-max-message-bytes', env: 'CHIRAL_SIGNALING_MAX_MESSAGE_BYTES', type: 'string', default: '65536', help: 'largest signaling message' },
  { flag: 'signaling-rate', env: 'CHIRAL_SIGNALING_RATE', type: 'string', default: '50', help: 'signaling messages per second per client (sustained)' },
  { flag: 'signaling-burst', env: 'CHIRAL_SIGNALING_BURST', type: 'string', default: '100', help: 'signaling messages per client in one burst' },
  { flag: 'signaling-heartbeat', env: 'CHIRAL_SIGNALING_HEARTBEAT', type: 'string', default: '30000', help: 'heartbeat interval in ms (silent clients dropped after two)' },
  { flag: 'signaling-max-send-buffer', env: 'CHIRAL_SIGNALING_MAX_SEND_BUFFER', type: 'string', default: '1048576', help: 'bytes queued for one slow client before its messages are dropped' },
  { flag: 'no-anonymous', env: 'CHIRAL_NO_ANONYMOUS', type: 'boolean', help: 'accept only PeerId-signed signaling registrations' },
  { flag: 'redis-url', env: 'CHIRAL_REDIS_URL', type: 'string', help: 'share signaling with other instances through this Redis (redis://[user:password@]host:6379, rediss:// for TLS)' },
  { flag: 'instance-id', env: 'CHIRAL_INSTANCE_ID', type: 'string', help: "this instance's name in Redis, unique per running node (default: random)" },
  { flag: 'redis-key-prefix', env: 'CHIRAL_REDIS_KEY_PREFIX', type: 'string', default: 'chiral:', help: 'prefix of the Redis keys and channels' },
  { flag: 'redis-presence-ttl', env: 'CHIRAL_REDIS_PRESENCE_TTL', type: 'string', default: '15000', help: "ms a dead instance's clients stay listed (same value on every instance)" },
  { flag: 'help', env: '', type: 'boolean', help: 'print this help and exit' }
]

export function helpText (name = 'chiral-node'): string {
  const lines = [
    `${name}: libp2p relay + DHT server + WebSocket signaling server`,
    '',
    `Usage: ${name} [options]`,
    '',
    'Options (flags win over environment variables):'
  ]
  for (const o of OPTIONS) {
    const left = `  --${o.flag}${o.type === 'string' ? ' <value>' : ''}`
    const env = o.env === '' ? '' : ` [env ${o.env}]`
    const def = o.default === undefined ? '' : ` (default ${o.default})`
    lines.push(`${left.padEnd(40)} ${o.help}${def}${env}`)
  }
  return lines.join('\n')
}

export type ParsedArgs = { help: true } | { help: false, config: NodeConfig }

/** Parses argv + env. Throws ConfigError with a one-line message on any problem. */
export function parseConfig (argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  let values: Record<string, string | boolean | Array<string | boolean> | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: o.type, ...(o.multiple === true ? { multiple: true } : {}) }]))
    }).values
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  if (values.help === true) return { help: true }

  const get = (flag: string): string | undefined => {
    const o = OPTIONS.find((x) => x.flag === flag)!
    const v = values[flag]
    if (typeof v === 'string') return v
    const e = o.env === '' ? undefined : env[o.env]
    if (e !== undefined && e !== '') return e
    return o.default
  }
  /** A repeatable flag's values (each may be comma-separated), else its environment variable's list. */
  const list = (flag: string): string[] => {
    const o = OPTIONS.find((x) => x.flag === flag)!
    const v = values[flag]
    const given = Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : (o.env === '' ? undefined : env[o.env])?.split(',') ?? []
    return given.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s.length > 0)
  }
  const bool = (flag: string): boolean => {
    if (values[flag] === true) return true
    const o = OPTIONS.find((x) => x.flag === flag)!
    const e = env[o.env]
    if (e === undefined || e === '') return false
    if (/^(1|true|yes|on)$/i.test(e)) return true
    if (/^(0|false|no|off)$/i.test(e)) return false
    throw new ConfigError(`${o.env} must be true or false, got "${e}"`)
  }

  const host = get('host')!
  const tcpPort = port('tcp-port', get('tcp-port')!)
  const wsPort = port('ws-port', get('ws-port')!)
  const keyFile = get('key-file')!
  const logLevel = get('log-level')!.toLowerCase() as LogLevel
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)

  return {
    help: false,
    config: {
      port: port('port', get('port')!),
      host,
      tcpPort,
      wsPort,
      announce: announceAddrs(get('announce'), get('public-ip'), tcpPort, wsPort),
      bootstrap: bootstrapAddrs(list('bootstrap')),
      signalingUrls: signalingUrls(list('signaling-url')),
      keyFile,
      datastore: datastoreSetting(get('datastore'), keyFile),
      logLevel,
      allowPrivateAddresses: bool('allow-private-addresses'),
      ...(get('demo-dir') === undefined ? {} : { demoDir: get('demo-dir') }),
      relay: {
        maxReservations: positiveInt('relay-max-reservations', get('relay-max-reservations')!),
        maxReservationsPerIp: /^(unlimited|infinity)$/i.test(get('relay-max-reservations-per-ip')!) ? Infinity : positiveInt('relay-max-reservations-per-ip', get('relay-max-reservations-per-ip')!),
        dataLimit: relayDataLimit(get('relay-data-limit')!),
        durationLimit: seconds('relay-duration-limit', get('relay-duration-limit')!) * 1000,
        rateLimit: bytesPerSecond('relay-rate-limit', get('relay-rate-limit')!)
      },
      dht: {
        maxRecordsPerPeer: positiveInt('dht-max-records-per-peer', get('dht-max-records-per-peer')!),
        maxRecords: positiveInt('dht-max-records', get('dht-max-records')!)
      },
      httpRateLimit: positiveInt('http-rate-limit', get('http-rate-limit')!),
      signaling: {
        maxClients: positiveInt('signaling-max-clients', get('signaling-max-clients')!),
        maxMessageBytes: positiveInt('signaling-max-message-bytes', get('signaling-max-message-bytes')!),
        ratePerSecond: positiveInt('signaling-rate', get('signaling-rate')!),
        rateBurst: positiveInt('signaling-burst', get('signaling-burst')!),
        heartbeatInterval: positiveInt('signaling-heartbeat', get('signaling-heartbeat')!),
        maxSendBuffer: positiveInt('signaling-max-send-buffer', get('signaling-max-send-buffer')!),
        allowAnonymous: !bool('no-anonymous')
      },
      ...redisSetting(get)
    }
  }
}

function redisSetting (get: (flag: string) => string | undefined): { redis?: RedisSetting } {
  const url = get('redis-url')
  const instanceId = get('instance-id')
  if (url === undefined) {
    if (instanceId !== undefined) throw new ConfigError('--instance-id needs --redis-url')
    return {}
  }
  if (!/^rediss?:\/\/[^/]/.test(url)) throw new ConfigError(`--redis-url must be redis://host:port or rediss://host:port, got "${url.replace(/^([a-z]*:\/*)[^@]*@/i, '$1***@')}"`)
  if (instanceId !== undefined && !/^[\x21-\x7e]{1,128}$/.test(instanceId)) throw new ConfigError(`--instance-id must be 1-128 visible ASCII characters, got "${instanceId}"`)
  const presenceTtl = positiveInt('redis-presence-ttl', get('redis-presence-ttl')!)
  if (presenceTtl < 300) throw new ConfigError(`--redis-presence-ttl must be at least 300 (ms), got ${presenceTtl}`)
  return {
    redis: {
      url,
      ...(instanceId === undefined ? {} : { instanceId }),
      keyPrefix: get('redis-key-prefix')!,
      presenceTtl
    }
  }
}

function datastoreSetting (text: string | undefined, keyFile: string): DatastoreSetting {
  if (text === undefined) return { kind: 'fs', path: join(dirname(keyFile), DEFAULT_DATASTORE_DIR) }
  if (text.trim() === '') throw new ConfigError('--datastore must be a folder or "memory", got ""')
  if (text === 'memory') return { kind: 'memory' }
  return { kind: 'fs', path: text }
}

function port (name: string, text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || n > 65535) throw new ConfigError(`--${name} must be a port number (0-65535), got "${text}"`)
  return n
}

function positiveInt (name: string, text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || n <= 0 || !Number.isSafeInteger(n)) throw new ConfigError(`--${name} must be a positive whole number, got "${text}"`)
  return n
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 }

/** A size such as `512MiB`, `4GiB`, `1.5mb` or `1048576`, or `unlimited`. */
function bytes (name: string, text: string): number {
  const n = parseSize(text)
  if (n === undefined) throw new ConfigError(`--${name} must be a size like 512MiB or 4GiB, or "unlimited"; got "${text}"`)
  return n
}

/**
 * Smallest `--relay-data-limit`: one default-size chunk plus room for what a
 * relayed connection carries besides it (Noise handshake and frame tags,
 * yamux headers, multistream-select, identify, the transfer protocol's
 * messages). libp2p counts both directions against one limit. Below this a
 * relayed fetch is cut before its first chunk arrives, and the resume on a
 * new relayed connection is cut again: the file never completes.
 */
export const MIN_RELAY_DATA_LIMIT = DEFAULT_CHUNK_SIZE + 64 * 1024

function relayDataLimit (text: string): number {
  const n = bytes('relay-data-limit', text)
  if (n < MIN_RELAY_DATA_LIMIT) throw new ConfigError(`--relay-data-limit must be at least ${MIN_RELAY_DATA_LIMIT} bytes (${MIN_RELAY_DATA_LIMIT / 1024}KiB: one ${DEFAULT_CHUNK_SIZE / 1024}KiB chunk plus framing), got "${text}" (${n} bytes)`)
  return n
}

/** A size per second, `10MiB` or `10MiB/s`, or `unlimited`. */
function bytesPerSecond (name: string, text: string): number {
  const n = parseSize(text.replace(/\s*\/\s*s$/i, ''))
  if (n === undefined) throw new ConfigError(`--${name} must be a rate like 10MiB (bytes per second), or "unlimited"; got "${text}"`)
  return n
}

function parseSize (text: string): number | undefined {
  if (/^(unlimited|infinity)$/i.test(text)) return Infinity
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = UNITS[m?.[2]?.toLowerCase() ?? 'x']
  const n = m == null || unit === undefined ? NaN : Math.floor(Number(m[1]) * unit)
  return n > 0 ? n : undefined
}

function seconds (name: string, text: string): number {
  if (/^(unlimited|infinity)$/i.test(text)) return Infinity
  return positiveInt(name, text)
}

function bootstrapAddrs (list: string[]): string[] {
  for (const a of list) {
    let ok = false
    try { ok = multiaddr(a).getComponents().at(-1)?.name === 'p2p' } catch {}
    if (!ok) throw new ConfigError(`--bootstrap: "${a}" is not a multiaddr ending in /p2p/<peer id>`)
  }
  return [...new Set(list)]
}

function signalingUrls (list: string[]): string[] {
  for (const u of list) {
    let ok = false
    try { ok = ['ws:', 'wss:'].includes(new URL(u).protocol) } catch {}
    if (!ok) throw new ConfigError(`--signaling-url: "${u}" is not a ws:// or wss:// URL`)
  }
  return [...new Set(list)]
}

function announceAddrs (announce: string | undefined, publicIp: string | undefined, tcpPort: number, wsPort: number): string[] {
  if (announce !== undefined) {
    const list = announce.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
    for (const a of list) {
      try { multiaddr(a) } catch { throw new ConfigError(`--announce: "${a}" is not a multiaddr`) }
    }
    return list
  }
  if (publicIp === undefined) return []
  const family = /^\d{1,3}(\.\d{1,3}){3}$/.test(publicIp) ? 'ip4' : publicIp.includes(':') ? 'ip6' : undefined
  if (family === undefined) throw new ConfigError(`--public-ip must be an IPv4 or IPv6 address, got "${publicIp}"`)
  return [`/${family}/${publicIp}/tcp/${tcpPort}`, `/${family}/${publicIp}/tcp/${wsPort}/ws`]
}
