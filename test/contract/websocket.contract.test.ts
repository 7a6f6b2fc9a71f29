import WebSocket from 'ws';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCrossbusError } from '../../src/core/errors/index.js';
import { until } from '../helpers/wait.js';
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

describe('websocket client: events before setHandlers', () => {
  for (const [label, opts] of [
    ['ws, nodebuffer', { sendCallbacks: true, binaryType: 'nodebuffer' }],
    ['browser-style, arraybuffer', {}],
  ] as const) {
    test(`${label}: what the server says and its close, before the handlers are set, are delivered in order`, async () => {
      // A hub that refuses a connection answers and closes at once, possibly before the client
      // has installed its handlers: the client must still learn why.
      const listener = await listenWebSocket({
        host: '127.0.0.1',
        port: 0,
        maxMessageBytes: 1024,
        onConnection: (t) => {
          t.setHandlers({ message: () => {}, close: () => {} });
          t.send(new Uint8Array([1, 2, 3]));
          t.close(1013, 'CB_ERR_TOO_MANY_CONNECTIONS');
        },
      });
      const sockets: WebSocket[] = [];
      class Recorded extends WebSocket {
        constructor(url: string) {
          super(url);
          sockets.push(this);
        }
      }
      try {
        const client = await webSocketConnector(listener.url, { WebSocket: Recorded as unknown as WebSocketConstructor, ...opts })();
        await until(() => sockets[0]?.readyState === WebSocket.CLOSED, 5_000, 'the socket to close before any handler is set');
        const seen: string[] = [];
        client.setHandlers({
          message: (chunk) => seen.push(`message ${[...chunk].join(',')}`),
          close: (info) => seen.push(`close ${info.code} ${info.reason} ${info.local}`),
        });
        assert.deepEqual(seen, ['message 1,2,3', 'close 1013 CB_ERR_TOO_MANY_CONNECTIONS false']);
        assert.throws(
          () => client.send(new Uint8Array([1])),
          (e) => isCrossbusError(e, 'CB_ERR_CONNECTION_CLOSED'),
        );
      } finally {
        await listener.close();
      }
    });
  }
});
