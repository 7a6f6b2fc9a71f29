/**
 * Tracks client buses so that every bus a test opened is closed when the test file ends, even if
 * the test failed before its own cleanup.
 */
import { after } from 'node:test';
import { connect, type Bus, type ConnectOptions } from '../../src/node/index.js';

const buses = new Set<Bus>();

after(async () => {
  await closeAllBuses();
});

/** connect() + tracking. Defaults: a short connect timeout. */
export async function openBus(url: string, options: ConnectOptions = {}): Promise<Bus> {
  const bus = await connect(url, { timeoutMs: 5_000, ...options });
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
