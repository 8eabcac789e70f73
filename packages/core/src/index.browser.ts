/**
 * @chiral/core for browsers: contracts, content ids and manifests, provider
 * discovery, and the `browser` libp2p node preset.
 */
export * from './exports.js'
export { createNode, BROWSER_LISTEN } from './presets/browser.js'
