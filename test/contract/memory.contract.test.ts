import { runBusContract, runTransportContract } from './transport-contract.js';
import { createMemoryPair, memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { Broker } from '../../src/core/broker/broker.js';

runTransportContract('memory', async () => {
  const [client, server] = createMemoryPair();
  return { client, server, cleanup: async () => { client.close(); server.close(); } };
});

runBusContract('memory', async () => {
  const broker = new Broker({ heartbeatMs: 0 });
  return { connector: memoryConnector(broker), broker, cleanup: () => broker.close(100) };
});
