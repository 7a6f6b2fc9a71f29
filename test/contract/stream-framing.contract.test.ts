/**
 * The contract over a byte-stream transport that cuts and joins chunks at random (as TCP and
 * shared-memory rings may): the transport itself, and the Bus and the Broker over it, plain,
 * encrypted (Node crypto) and integrity-only (WebCrypto, asynchronous). Both sides reframe the
 * stream before anything reads it; without that, the first frame cut in two breaks the session.
 */
import { contractHub, runBusContract, runTransportContract } from './transport-contract.js';
import type { Broker } from '../../src/core/broker/broker.js';
import type { TransportConnector } from '../../src/core/transport/transport.js';
import { RECHUNK_SEED, createRechunkingPair } from '../helpers/rechunking-transport.js';

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

runBusContract(`stream framing, split and joined at random, plain (seed ${RECHUNK_SEED})`, () => contractHub('plain', rechunkingConnector));
runBusContract(`stream framing, split and joined at random, encrypted (Node crypto, seed ${RECHUNK_SEED})`, () =>
  contractHub('encrypted', rechunkingConnector),
);
runBusContract(`stream framing, split and joined at random, integrity only (WebCrypto, async, seed ${RECHUNK_SEED})`, () =>
  contractHub('integrity', rechunkingConnector),
);
