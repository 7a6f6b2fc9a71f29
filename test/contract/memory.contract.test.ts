import { memoryStreams, runBusContract, runTransportContract } from './transport-contract.js';
import { createMemoryPair, memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { Broker } from '../../src/core/broker/broker.js';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { HubSecurity } from '../../src/core/security/hub-security.js';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { hubSecurity, testConfigDocument } from '../helpers/security.js';

runTransportContract('memory', async () => {
  const [client, server] = createMemoryPair();
  return {
    client,
    server,
    cleanup: async () => {
      client.close();
      server.close();
    },
  };
});

runBusContract('memory', async () => {
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, streams });
  return {
    connector: memoryConnector(broker),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await streams.close();
    },
  };
});

// The same contract through the security layer: Node crypto on both sides, encrypted records.
runBusContract('memory, authenticated and encrypted (Node crypto)', async () => {
  const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, security: hubSecurity(doc).security, streams });
  return {
    connector: memoryConnector(broker),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await streams.close();
    },
    credentials: { name: 'test', secret: doc.apps.test.secret, security: { crypto: createNodeCryptoProvider() } },
  };
});

// And with WebCrypto on both sides (asynchronous sealing and opening, as in a browser hub), integrity only.
runBusContract('memory, authenticated, integrity only (WebCrypto, async)', async () => {
  const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
  const config = parseHubConfig(doc);
  const security = new HubSecurity({ crypto: createWebCryptoProvider(), config });
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, security, streams });
  return {
    connector: memoryConnector(broker),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await streams.close();
    },
    credentials: {
      name: 'test',
      secret: doc.apps.test.secret,
      security: { mode: 'integrity', group: 'X25519', crypto: createWebCryptoProvider() },
    },
  };
});
