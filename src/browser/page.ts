/**
 * The page client (`crossbus/page`): the bus over the browser transports — windows, iframes and
 * popups (postMessage, then a private MessageChannel), workers and MessagePorts, and an
 * extension's hub — for pages that the browser identifies by their origin. It carries no secret
 * handshake and no WebSocket client, which keeps it small (scripts/size.mjs measures it):
 * connect to a Node hub with `connect` from 'crossbus' instead.
 */
import { openBus, type Bus } from '../client/bus.js';
import type { ConnectOptions } from '../client/options.js';
import type { TransportConnector } from '../core/transport/transport.js';

export { Bus, HEADER_ERROR, type PublishOptions, type PublishAck, type RequestOptions, type ServeOptions, type ServiceHandler } from '../client/bus.js';
export type { ConnectOptions, ReconnectOptions } from '../client/options.js';
export type { Message } from '../client/message.js';
export type { Subscription, SubscribeOptions, MessageHandler } from '../client/subscription.js';
export type { BusEvents, BusState } from '../client/events.js';
export { CrossbusError, isCrossbusError } from '../core/errors/index.js';
export { windowConnector, type WindowConnectorOptions } from '../transports/postmessage/window-connector.js';
export { workerConnector } from '../transports/port/connect.js';
export { createPortTransport, type PortLike } from '../transports/port/port-transport.js';
export { extensionConnector, type ExtensionConnectorOptions } from '../transports/extension/extension-connector.js';

/** Connects through a browser transport's connector; the hub identifies this page by its origin. */
export function connect(connector: TransportConnector, options: ConnectOptions = {}): Promise<Bus> {
  return openBus(connector, options);
}
