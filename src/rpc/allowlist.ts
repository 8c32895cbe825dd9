// rpcallowip as Core's: which remote addresses may reach the RPC port besides loopback. Owns the
// parsing of entries (addresses, CIDR or netmask subnets, IPv4 and IPv6); fails by throwing an
// Error that names the bad entry, so the node refuses to start with one clear line.
import { BlockList, isIP } from 'node:net';

export function isLoopback(host: string): boolean {
  const h = host.replace(/^::ffff:/i, '');
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function maskToPrefix(mask: string): number {
  const bits = mask
    .split('.')
    .map((o) => Number(o).toString(2).padStart(8, '0'))
    .join('');
  if (!/^1*0*$/.test(bits)) throw new Error(`invalid netmask ${mask}`);
  return bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
}

/** Builds the allow-list; throws naming the bad entry. */
export function parseAllowList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, suffix] = entry.split('/');
    const family = isIP(addr);
    if (family === 0) throw new Error(`invalid rpcallowip entry "${entry}": not an IP address or subnet`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (suffix === undefined) {
      list.addAddress(addr, type);
      continue;
    }
    let prefix: number;
    if (/^\d{1,3}$/.test(suffix)) prefix = Number(suffix);
    else if (family === 4 && isIP(suffix) === 4) {
      try {
        prefix = maskToPrefix(suffix);
      } catch {
        throw new Error(`invalid rpcallowip entry "${entry}": bad netmask`);
      }
    } else throw new Error(`invalid rpcallowip entry "${entry}": bad prefix length`);
    if (prefix > (family === 4 ? 32 : 128))
      throw new Error(`invalid rpcallowip entry "${entry}": prefix too long`);
    list.addSubnet(addr, prefix, type);
  }
  return list;
}
