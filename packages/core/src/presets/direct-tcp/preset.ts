import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidArgumentError } from '../../errors.js'
import { pickPunchPort } from './port.js'
import { directTcp } from './service.js'
import type { DirectTcpComponents, DirectTcpService } from './service.js'
import type { DirectTcpSetting } from '../options.js'
import type { TCPSocketOptions } from '@libp2p/tcp'
import type { Transport } from '@libp2p/interface'

/** The TCP transport and the `dcutr` service of a peer with `directTcp` on. */
export interface DirectTcpParts {
  port: number
  transport: (components: any) => Transport
  service: (components: DirectTcpComponents) => DirectTcpService
}

/**
 * Resolves a `directTcp` setting: picks the punch port (unless given),
 * checks that no listen address takes it, and binds every outbound TCP
 * dial to it (Node's `net.connect({ localPort })`, passed through
 * @libp2p/tcp's `dialOpts`).
 */
export async function directTcpParts (setting: DirectTcpSetting, listen: string[], allowPrivateAddresses: boolean): Promise<DirectTcpParts> {
  const init = typeof setting === 'object' ? setting : {}
  if (init.port !== undefined && (!Number.isInteger(init.port) || init.port < 1 || init.port > 65535)) {
    throw new InvalidArgumentError(`directTcp.port must be a TCP port, got ${String(init.port)}`)
  }
  const port = init.port ?? await pickPunchPort()
  for (const addr of listen) {
    const tcpPort = multiaddr(addr).getComponents().find((c) => c.name === 'tcp')?.value
    if (tcpPort === String(port)) {
      throw new InvalidArgumentError(`directTcp.port ${port} is also a listen port (${addr}): outbound TCP cannot leave from a port a listener holds`)
    }
  }
  // @libp2p/tcp hands its dialOpts to net.connect; its type lists only some socket options.
  const dialOpts: TCPSocketOptions & { localPort: number } = { localPort: port }
  return {
    port,
    transport: tcp({ dialOpts }),
    service: directTcp({
      port,
      allowPrivateAddresses,
      ...(init.timeout === undefined ? {} : { timeout: init.timeout }),
      ...(init.attempts === undefined ? {} : { attempts: init.attempts })
    })
  }
}
