import { contractHub, runBusContract, runTransportContract } from './transport-contract.js';
import { createMemoryPair, memoryConnector } from '../../src/transports/memory/memory-transport.js';

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

runBusContract('memory', () => contractHub('plain', memoryConnector));
// The same contract through the security layer: Node crypto on both sides, encrypted records.
runBusContract('memory, authenticated and encrypted (Node crypto)', () => contractHub('encrypted', memoryConnector));
// And with WebCrypto on both sides (asynchronous sealing and opening, as in a browser hub), integrity only.
runBusContract('memory, authenticated, integrity only (WebCrypto, async)', () => contractHub('integrity', memoryConnector));
