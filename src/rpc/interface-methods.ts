// RPC methods of the node's optional interfaces: ZMQ (getzmqnotifications) and, as they are
// built, the indexes. Owns only the reply shapes, which follow Bitcoin Core's; the publishers
// and indexes are reached through the functions given here.
import type { RpcServer } from './server.js';
import { methodRegistrar } from './params.js';

export interface InterfaceMethodDeps {
  /** ZMQ publishers active ([] when none is configured). */
  zmqNotifications: () => { type: string; address: string; hwm: number }[];
}

export function registerInterfaceMethods(server: RpcServer, deps: InterfaceMethodDeps): void {
  const reg = methodRegistrar(server);
  reg(
    'getzmqnotifications',
    [],
    'Returns information about the active ZeroMQ notifications.\n\nResult:\n[{"type": str, "address": str, "hwm": n}, ...]',
    () => deps.zmqNotifications(),
  );
}
