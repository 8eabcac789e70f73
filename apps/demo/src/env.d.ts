/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Signaling server URL, e.g. `wss://chiral.example.org/` (default: the page's own host). */
  readonly VITE_SIGNALING_URL?: string
  /** Relay multiaddrs, comma or space separated (default: read from the node's /health). */
  readonly VITE_RELAYS?: string
  /** STUN/TURN URLs, comma or space separated; `none` for no ICE server (default: the transport's). */
  readonly VITE_ICE_SERVERS?: string
  /** `true` to accept private and loopback addresses (LANs, labs); default: only when the relay is on one. */
  readonly VITE_ALLOW_PRIVATE_ADDRESSES?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
