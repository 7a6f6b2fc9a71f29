/**
 * `crossbus/runtime`: what an app's entry imports when `crossbus run` (the Supervisor) runs it:
 * `instanceContext()`, its identity, configuration and a connection as the app (the secret
 * handed over on the IPC channel). Node only.
 */
export { instanceContext, type InstanceContext } from './apps/instance.js';
