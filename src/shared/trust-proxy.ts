import { isIP } from 'node:net';

/**
 * Which `X-Forwarded-For` entries `web` believes, in the forms Express's `trust proxy` takes: a
 * hop count (`1`: the one proxy in front) or the proxies' addresses and subnets. `0` (the
 * default) believes none: without a proxy in front, any client could name any address.
 */
export type TrustProxy = number | string[];

// proxy-addr's names for its built-in address ranges.
const RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const MAX_HOPS = 10;

const isAddressOrSubnet = (item: string): boolean => {
  if (RANGES.has(item) || isIP(item)) return true;
  const [address = '', bits, ...rest] = item.split('/');
  const family = isIP(address);
  if (!family || rest.length || !/^\d{1,3}$/.test(bits ?? '')) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
};

/** The value for Express, or undefined when `value` is none of the accepted forms. */
export function parseTrustProxy(value: string): TrustProxy | undefined {
  if (/^\d+$/.test(value)) return Number(value) <= MAX_HOPS ? Number(value) : undefined;
  const items = value.split(',').map((item) => item.trim());
  return items.every(isAddressOrSubnet) ? items : undefined;
}

export const TRUST_PROXY_FORMS =
  `a hop count from 0 to ${MAX_HOPS} (1: one proxy in front), or proxy addresses and subnets ` +
  'separated by commas (e.g. 10.0.0.0/8, loopback)';
