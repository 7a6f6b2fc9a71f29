/**
 * The page client (`crossbus/page`): the bus over the browser transports — windows, iframes and
 * popups (postMessage, then a private MessageChannel), workers and MessagePorts, and an
 * extension's hub — for pages that the browser identifies by their origin. It carries no secret
 * handshake, no WebSocket client and no durable streams unless plugged in, which keeps it small
 * (scripts/size.mjs measures it): connect to a Node hub with `connect` from 'crossbus' instead.
 */
// The transports come first: a bundle keeps this order, and so they sit next to the error registry
// and classes they share their words with, within gzip's 32 KB window, instead of at the far end.
export { createPortTransport, type PortLike } from '../transports/port/port-transport.js';
export { extensionConnector, type ExtensionConnectorOptions } from '../transports/extension/extension-connector.js';
export { workerConnector } from '../transports/port/connect.js';
export { windowConnector, type WindowConnectorOptions } from '../transports/postmessage/window-connector.js';
import { openBus, type Bus, type BusPlugins } from '../client/bus.js';
import type { ConnectOptions } from '../client/options.js';
import type { TransportConnector } from '../core/transport/transport.js';

export {
  Bus,
  HEADER_ERROR,
  type PublishOptions,
  type PublishAck,
  type RequestOptions,
  type ServeOptions,
  type ServiceHandler,
} from '../client/bus.js';
export type { ConnectOptions, ReconnectOptions } from '../client/options.js';
export type { Message } from '../client/message.js';
export type { Subscription, SubscribeOptions, MessageHandler } from '../client/subscription.js';
export type { BusEvents, BusState } from '../client/events.js';
export { CrossbusError, isCrossbusError } from '../core/errors/index.js';

/** Plugins a page may add: durable streams (`createBusStreams` from 'crossbus/streams'). */
export type PagePlugins = Pick<BusPlugins, 'streams'>;

/**
 * Connects through a browser transport's connector; the hub identifies this page by its origin.
 * Durable publishes, `consume()` and `bus.streams` need `{ streams: createBusStreams }` as `plugins`.
 */
export function connect(connector: TransportConnector, options: ConnectOptions = {}, plugins: PagePlugins = {}): Promise<Bus> {
  // Only the streams plugin passes: a page never has secret authentication or stream reframing.
  return openBus(connector, options, { streams: plugins.streams });
}
