import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { describe, expect, it } from 'vitest'
import { ConfigError, MIN_RELAY_DATA_LIMIT, parseConfig } from '../src/config.js'
import { createHttpRateLimit } from '../src/http-rate-limit.js'
import { CappedProviderStore, parseProviderKey } from '../src/provider-caps.js'
import type { NodeConfig } from '../src/config.js'

const PEER_A = '12D3KooWA1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const PEER_B = '12D3KooWB2bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
const record = (i: number, peer: string): Key => new Key(`/dht/provider/ciqmultihash${i}/${peer}`)
const value = new Uint8Array([1])

const stored = async (ds: MemoryDatastore): Promise<number> => {
  let n = 0
  for await (const _ of ds.queryKeys({ prefix: '/dht/provider' })) n++
  return n
}

describe('provider record caps', () => {
  it('parses provider keys and nothing else', () => {
    expect(parseProviderKey(record(1, PEER_A))).toEqual({ multihash: 'ciqmultihash1', peer: PEER_A })
    expect(parseProviderKey(new Key('/dht/provider/ciqmultihash1'))).toBeUndefined()
    expect(parseProviderKey(new Key('/dht/record/abc/def'))).toBeUndefined()
    expect(parseProviderKey(new Key(`/peers/${PEER_A}`))).toBeUndefined()
  })

  it('drops new records beyond the per-peer cap, keeps refreshing stored ones, and counts', async () => {
    const inner = new MemoryDatastore()
    const ds = new CappedProviderStore(inner, { maxRecordsPerPeer: 3, maxRecords: 100 })
    await ds.load()
    for (let i = 0; i < 10; i++) await ds.put(record(i, PEER_A), value)
    expect(await stored(inner)).toBe(3)
    expect(ds.counts()).toEqual({ records: 3, peers: 1, refused: 7 })
    await ds.put(record(0, PEER_A), new Uint8Array([2])) // a refresh
    expect(await inner.get(record(0, PEER_A))).toEqual(new Uint8Array([2]))
    await ds.put(record(0, PEER_B), value)
    expect(ds.counts()).toEqual({ records: 4, peers: 2, refused: 7 })
    await ds.delete(record(1, PEER_A))
    await ds.delete(record(1, PEER_A))
    expect(ds.counts().records).toBe(3)
    await ds.put(record(5, PEER_A), value) // room again
    expect(ds.recordsOf(PEER_A)).toBe(3)
    // other keys pass untouched
    await ds.put(new Key(`/peers/${PEER_A}`), value)
    expect(await inner.has(new Key(`/peers/${PEER_A}`))).toBe(true)
  })

  it('caps the total, and counts concurrent puts before they are written', async () => {
    const inner = new MemoryDatastore()
    const ds = new CappedProviderStore(inner, { maxRecordsPerPeer: 100, maxRecords: 5 })
    await Promise.all(Array.from({ length: 20 }, async (_, i) => ds.put(record(i, i % 2 === 0 ? PEER_A : PEER_B), value)))
    expect(await stored(inner)).toBe(5)
    expect(ds.counts()).toMatchObject({ records: 5, refused: 15 })
  })

  it('builds its index from what is stored, and goes through batches and putMany', async () => {
    const inner = new MemoryDatastore()
    for (let i = 0; i < 4; i++) await inner.put(record(i, PEER_A), value)
    const ds = new CappedProviderStore(inner, { maxRecordsPerPeer: 5, maxRecords: 100 })
    await ds.load()
    expect(ds.counts()).toEqual({ records: 4, peers: 1, refused: 0 })
    const batch = ds.batch()
    for (let i = 4; i < 8; i++) batch.put(record(i, PEER_A), value)
    batch.delete(record(0, PEER_A))
    await batch.commit() // puts first: one fits, three are dropped; then the delete
    expect(ds.recordsOf(PEER_A)).toBe(4)
    for await (const _ of ds.putMany([{ key: record(9, PEER_A), value }, { key: record(1, PEER_B), value }])) {}
    expect(ds.counts()).toEqual({ records: 6, peers: 2, refused: 3 })
    expect(await stored(inner)).toBe(6)
  })
})

describe('HTTP rate limit', () => {
  it('allows a burst, then the sustained rate, per address', () => {
    const limit = createHttpRateLimit({ perSecond: 10 })
    const t = 1_000_000
    const allowed = Array.from({ length: 30 }, () => limit.allow('a', t)).filter(Boolean).length
    expect(allowed).toBe(20)
    expect(limit.allow('b', t)).toBe(true)
    expect(limit.allow('a', t + 50)).toBe(false)
    expect(limit.allow('a', t + 150)).toBe(true)
    expect(limit.allow('a', t + 150)).toBe(false)
  })

  it('tracks a bounded number of addresses', () => {
    const limit = createHttpRateLimit({ perSecond: 10, maxAddresses: 100 })
    for (let i = 0; i < 1000; i++) limit.allow(`10.0.${i >> 8}.${i & 255}`, 5000 + i)
    expect(limit.size()).toBeLessThanOrEqual(100)
  })
})

describe('abuse-limit flags', () => {
  const config = (argv: string[], env: NodeJS.ProcessEnv = {}): NodeConfig => {
    const parsed = parseConfig(argv, env)
    if (parsed.help) throw new Error('unexpected --help')
    return parsed.config
  }

  it('defaults to 1,000 records per peer, 100,000 in all, and 10 requests per second', () => {
    expect(config([])).toMatchObject({ dht: { maxRecordsPerPeer: 1000, maxRecords: 100_000 }, httpRateLimit: 10 })
    expect(config(['--dht-max-records-per-peer', '50'], { CHIRAL_DHT_MAX_RECORDS: '500', CHIRAL_HTTP_RATE_LIMIT: '2' }))
      .toMatchObject({ dht: { maxRecordsPerPeer: 50, maxRecords: 500 }, httpRateLimit: 2 })
    expect(() => parseConfig(['--dht-max-records', '0'], {})).toThrow(/^--dht-max-records must be a positive whole number/)
  })

  it('needs a relay data limit that carries one chunk plus framing', () => {
    expect(MIN_RELAY_DATA_LIMIT).toBe(2 ** 20 + 65536)
    expect(config(['--relay-data-limit', '1088KiB']).relay.dataLimit).toBe(MIN_RELAY_DATA_LIMIT)
    expect(() => parseConfig(['--relay-data-limit', '1MiB'], {})).toThrow(ConfigError)
    expect(() => parseConfig([], { CHIRAL_RELAY_DATA_LIMIT: '100KiB' })).toThrow(/^--relay-data-limit must be at least 1114112 bytes/)
  })
})
