import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { ConfigError } from './config.js'
import type { PrivateKey } from '@libp2p/interface'

/**
 * Loads the node's private key, or creates one (Ed25519, protobuf-encoded,
 * mode 0600) on first run, so the peer id survives restarts.
 */
export async function loadOrCreateKey (path: string): Promise<{ key: PrivateKey, created: boolean }> {
  let bytes: Buffer | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read key file ${path}: ${(err as Error).message}`)
    }
  }
  if (bytes !== undefined) {
    try {
      return { key: privateKeyFromProtobuf(bytes), created: false }
    } catch (err) {
      throw new ConfigError(`key file ${path} does not hold a libp2p private key: ${(err as Error).message}`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  try {
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
    await chmod(path, 0o600)
  } catch (err) {
    throw new ConfigError(`cannot create key file ${path}: ${(err as Error).message}`)
  }
  return { key, created: true }
}
