/**
 * Tracks client buses so that every bus a test opened is closed when the test file ends, even if
 * the test failed before its own cleanup.
 */
import { after } from 'node:test';
import { connect, type Bus, type ConnectOptions } from '../../src/node/index.js';
import { credentialsFor } from './hub-process.js';

const buses = new Set<Bus>();

after(async () => {
  await closeAllBuses();
});

/** connect() + tracking. Defaults: a short connect timeout, and the credentials of a secure test hub at `url`. */
export async function openBus(url: string, options: ConnectOptions = {}): Promise<Bus> {
  // On a secure test hub every bus authenticates as app `test`; the name a test passes is then
  // only a label, so the credentials win over it.
  const creds = options.secret === undefined ? credentialsFor(url) : undefined;
  const bus = await connect(url, { timeoutMs: 5_000, ...options, ...creds });
  buses.add(bus);
  return bus;
}

export async function closeBus(bus: Bus | undefined): Promise<void> {
  if (bus === undefined) return;
  buses.delete(bus);
  await bus.close();
}

export async function closeAllBuses(): Promise<void> {
  const list = [...buses];
  buses.clear();
  await Promise.allSettled(list.map((b) => b.close()));
}
