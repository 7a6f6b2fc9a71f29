import WebSocket from 'ws';
import { memoryStreams, runBusContract, runTransportContract } from './transport-contract.js';
import { listenWebSocket } from '../../src/transports/websocket/websocket-server.node.js';
import { webSocketConnector } from '../../src/transports/websocket/websocket-client.js';
import type { Transport } from '../../src/core/transport/transport.js';
import type { WebSocketConstructor } from '../../src/client/options.js';
import { Broker } from '../../src/core/broker/broker.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { hubSecurity, testConfigDocument } from '../helpers/security.js';

const WS = WebSocket as unknown as WebSocketConstructor;

runTransportContract('websocket', async () => {
  let resolveServer!: (t: Transport) => void;
  const serverSide = new Promise<Transport>((r) => (resolveServer = r));
  const listener = await listenWebSocket({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 4 * 1024 * 1024,
    onConnection: (t) => resolveServer(t),
  });
  const client = await webSocketConnector(listener.url, { WebSocket: WS, sendCallbacks: true, binaryType: 'nodebuffer' })();
  const server = await serverSide;
  return {
    client,
    server,
    cleanup: async () => {
      client.close();
      server.close();
      await listener.close();
    },
  };
});

runTransportContract('websocket (browser-style: no send callbacks, arraybuffer)', async () => {
  let resolveServer!: (t: Transport) => void;
  const serverSide = new Promise<Transport>((r) => (resolveServer = r));
  const listener = await listenWebSocket({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 4 * 1024 * 1024,
    onConnection: (t) => resolveServer(t),
  });
  const client = await webSocketConnector(listener.url, { WebSocket: WS })();
  const server = await serverSide;
  return {
    client,
    server,
    cleanup: async () => {
      client.close();
      server.close();
      await listener.close();
    },
  };
});

runBusContract('websocket', async () => {
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, streams });
  const listener = await listenWebSocket({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 4 * 1024 * 1024,
    onConnection: (t) => broker.accept(t),
  });
  return {
    connector: webSocketConnector(listener.url, { WebSocket: WS, sendCallbacks: true, binaryType: 'nodebuffer' }),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await listener.close();
      await streams.close();
    },
  };
});

runBusContract('websocket, authenticated and encrypted', async () => {
  const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, security: hubSecurity(doc).security, streams });
  const listener = await listenWebSocket({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 4 * 1024 * 1024,
    onConnection: (t) => broker.accept(t),
  });
  return {
    connector: webSocketConnector(listener.url, { WebSocket: WS, sendCallbacks: true, binaryType: 'nodebuffer' }),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await listener.close();
      await streams.close();
    },
    credentials: { name: 'test', secret: doc.apps.test.secret, security: { crypto: createNodeCryptoProvider() } },
  };
});
