import { describe, expect, it } from 'vitest'
import { ConfigError, helpText, parseConfig } from '../src/config.js'
import type { NodeConfig } from '../src/config.js'

const config = (argv: string[], env: NodeJS.ProcessEnv = {}): NodeConfig => {
  const parsed = parseConfig(argv, env)
  if (parsed.help) throw new Error('unexpected --help')
  return parsed.config
}

describe('chiral-node configuration', () => {
  it('has the documented defaults', () => {
    const c = config([])
    expect(c).toMatchObject({ port: 9000, host: '0.0.0.0', tcpPort: 4001, wsPort: 4002, announce: [], logLevel: 'info', allowPrivateAddresses: false })
    expect(c.relay).toEqual({ maxReservations: 256, maxReservationsPerIp: 32, dataLimit: 4 * 2 ** 30, durationLimit: 3600 * 1000, rateLimit: Infinity })
    expect(c.signaling.allowAnonymous).toBe(true)
  })

  it('keeps the datastore in a folder next to the key file unless told otherwise', () => {
    expect(config([]).datastore).toEqual({ kind: 'fs', path: 'chiral-node.datastore' })
    expect(config([], { CHIRAL_KEY_FILE: '/var/lib/chiral/node.key' }).datastore).toEqual({ kind: 'fs', path: '/var/lib/chiral/chiral-node.datastore' })
    expect(config([], { CHIRAL_DATASTORE: '/srv/records' }).datastore).toEqual({ kind: 'fs', path: '/srv/records' })
    expect(config(['--datastore', 'memory'], { CHIRAL_DATASTORE: '/srv/records' }).datastore).toEqual({ kind: 'memory' })
    expect(config(['--datastore', './memory']).datastore).toEqual({ kind: 'fs', path: './memory' })
    expect(() => parseConfig(['--datastore', ''], {})).toThrow(/^--datastore must be a folder or "memory"/)
    expect(helpText()).toMatch(/--datastore <value> .*'memory'.*next to the key file.*\[env CHIRAL_DATASTORE\]/)
  })

  it('reads the environment, and flags win over it', () => {
    const env = { PORT: '9100', LOG_LEVEL: 'debug', CHIRAL_RELAY_DATA_LIMIT: '512MiB', CHIRAL_NO_ANONYMOUS: 'true' }
    expect(config([], env)).toMatchObject({ port: 9100, logLevel: 'debug', relay: { dataLimit: 512 * 2 ** 20 }, signaling: { allowAnonymous: false } })
    expect(config(['--port', '9200', '--log-level', 'warn'], env)).toMatchObject({ port: 9200, logLevel: 'warn' })
  })

  it('derives announce addresses from a public IP, or takes them as given', () => {
    expect(config(['--public-ip', '203.0.113.10']).announce).toEqual(['/ip4/203.0.113.10/tcp/4001', '/ip4/203.0.113.10/tcp/4002/ws'])
    expect(config(['--public-ip', '2001:db8::1', '--tcp-port', '5001']).announce).toEqual(['/ip6/2001:db8::1/tcp/5001', '/ip6/2001:db8::1/tcp/4002/ws'])
    expect(config(['--announce', '/dns4/relay.example.org/tcp/443/tls/ws', '--public-ip', '203.0.113.10']).announce).toEqual(['/dns4/relay.example.org/tcp/443/tls/ws'])
  })

  it('accepts "unlimited" relay limits', () => {
    expect(config(['--relay-data-limit', 'unlimited', '--relay-duration-limit', 'unlimited']).relay).toMatchObject({ dataLimit: Infinity, durationLimit: Infinity })
  })

  it('reads the relay rate limit as a size per second, from the flag or the environment', () => {
    expect(config(['--relay-rate-limit', '10MiB']).relay.rateLimit).toBe(10 * 2 ** 20)
    expect(config(['--relay-rate-limit', '2.5 MB/s']).relay.rateLimit).toBe(2.5e6)
    expect(config([], { CHIRAL_RELAY_RATE_LIMIT: '512KiB' }).relay.rateLimit).toBe(512 * 1024)
    expect(config(['--relay-rate-limit', '1MiB'], { CHIRAL_RELAY_RATE_LIMIT: '512KiB' }).relay.rateLimit).toBe(2 ** 20)
    expect(config(['--relay-rate-limit', 'unlimited']).relay.rateLimit).toBe(Infinity)
  })

  it.each(['fast', '0', '-1MiB', '10 parsecs', '0.1b'])('refuses the relay rate limit %j with a one-line ConfigError', (value) => {
    expect(() => parseConfig(['--relay-rate-limit', value], {})).toThrow(ConfigError)
    expect(() => parseConfig([], { CHIRAL_RELAY_RATE_LIMIT: value })).toThrow(/^--relay-rate-limit must be a rate like 10MiB \(bytes per second\), or "unlimited"; got "[^\n]*"$/)
  })

  it('lists --relay-rate-limit in --help', () => {
    expect(helpText()).toMatch(/--relay-rate-limit <value> .*bytes per second.*\(default unlimited\) \[env CHIRAL_RELAY_RATE_LIMIT\]/)
  })

  it.each([
    [['--port', '70000']],
    [['--public-ip', 'my-vm']],
    [['--announce', 'not-a-multiaddr']],
    [['--signaling-rate', '0']],
    [['--relay-duration-limit', '1.5']],
    [['extra-positional']]
  ])('refuses %j with a ConfigError', (argv) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError)
  })

  it('shares signaling through Redis only when given a URL (flag or CHIRAL_REDIS_URL)', () => {
    expect(config([]).redis).toBeUndefined()
    expect(config(['--redis-url', 'redis://:secret@10.0.0.5:6379/0', '--instance-id', 'eu-1']).redis)
      .toEqual({ url: 'redis://:secret@10.0.0.5:6379/0', instanceId: 'eu-1', keyPrefix: 'chiral:', presenceTtl: 15_000 })
    expect(config([], { CHIRAL_REDIS_URL: 'rediss://redis.example.org:6380', CHIRAL_REDIS_PRESENCE_TTL: '5000' }).redis)
      .toEqual({ url: 'rediss://redis.example.org:6380', keyPrefix: 'chiral:', presenceTtl: 5000 })
    expect(() => parseConfig(['--redis-url', 'http://10.0.0.5:6379'], {})).toThrow(/--redis-url must be redis:\/\/host:port/)
    expect(() => parseConfig(['--redis-url', 'redis://u:hunter2@10.0.0.5:6379', '--redis-presence-ttl', '100'], {})).toThrow(/at least 300/)
    expect(() => parseConfig(['--instance-id', 'eu-1'], {})).toThrow(/--instance-id needs --redis-url/)
    expect(helpText()).toMatch(/--redis-url <value> .*rediss:\/\/ for TLS.*\[env CHIRAL_REDIS_URL\]/)
  })

  it('keeps a Redis password out of its error messages', () => {
    for (const url of ['redis:/u:hunter2@10.0.0.5', 'redis:u:hun:ter2@10.0.0.5', 'tcp://:hunter2@10.0.0.5']) {
      expect(() => parseConfig(['--redis-url', url], {})).toThrow(ConfigError)
      expect(() => parseConfig(['--redis-url', url], {})).not.toThrow(/hunter2|ter2/)
    }
  })

  it('refuses a boolean environment variable that is not one', () => {
    expect(() => parseConfig([], { CHIRAL_ALLOW_PRIVATE_ADDRESSES: 'maybe' })).toThrow(/must be true or false/)
  })
})
