/**
 * The contract over a byte-stream transport that cuts and joins chunks at random (as TCP and
 * shared-memory rings may): the transport itself, and the Bus and the Broker over it, plain,
 * encrypted (Node crypto) and integrity-only (WebCrypto, asynchronous). Both sides reframe the
 * stream before anything reads it; without that, the first frame cut in two breaks the session.
 */
import { memoryStreams, runBusContract, runTransportContract } from './transport-contract.js';
import { Broker } from '../../src/core/broker/broker.js';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { HubSecurity } from '../../src/core/security/hub-security.js';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import type { TransportConnector } from '../../src/core/transport/transport.js';
import { RECHUNK_SEED, createRechunkingPair } from '../helpers/rechunking-transport.js';
import { hubSecurity, testConfigDocument } from '../helpers/security.js';

let pairs = 0;
/** Each connection gets its own generator seed (derived from RECHUNK_SEED), so runs replay exactly. */
function rechunkingConnector(broker: Broker): TransportConnector {
  return async () => {
    const [client, server] = createRechunkingPair(RECHUNK_SEED + 2 * ++pairs);
    broker.accept(server);
    return client;
  };
}

runTransportContract(`memory, split and joined at random (stream framing, seed ${RECHUNK_SEED})`, async () => {
  const [client, server] = createRechunkingPair(RECHUNK_SEED);
  return {
    client,
    server,
    cleanup: async () => {
      client.close();
      server.close();
    },
  };
});

runBusContract(`stream framing, split and joined at random, plain (seed ${RECHUNK_SEED})`, async () => {
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, streams });
  return {
    connector: rechunkingConnector(broker),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await streams.close();
    },
  };
});

runBusContract(`stream framing, split and joined at random, encrypted (Node crypto, seed ${RECHUNK_SEED})`, async () => {
  const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, security: hubSecurity(doc).security, streams });
  return {
    connector: rechunkingConnector(broker),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await streams.close();
    },
    credentials: { name: 'test', secret: doc.apps.test.secret, security: { crypto: createNodeCryptoProvider() } },
  };
});

runBusContract(`stream framing, split and joined at random, integrity only (WebCrypto, async, seed ${RECHUNK_SEED})`, async () => {
  const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
  const security = new HubSecurity({ crypto: createWebCryptoProvider(), config: parseHubConfig(doc) });
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, security, streams });
  return {
    connector: rechunkingConnector(broker),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await streams.close();
    },
    credentials: { name: 'test', secret: doc.apps.test.secret, security: { mode: 'integrity', crypto: createWebCryptoProvider() } },
  };
});
