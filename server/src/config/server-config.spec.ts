import { loadServerConfig } from './server-config';

describe('TRUST_PROXY', () => {
  it('is off unless set', () => {
    expect(loadServerConfig({}).trustProxy).toBe(false);
    expect(loadServerConfig({ TRUST_PROXY: '' }).trustProxy).toBe(false);
    expect(loadServerConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
  });

  it('takes a hop count, true, or addresses, subnets and range names as Express does', () => {
    expect(loadServerConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadServerConfig({ TRUST_PROXY: 'TRUE' }).trustProxy).toBe(true);
    expect(loadServerConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,172.16.0.0/255.240.0.0, fd00::/8, 192.0.2.1' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      '172.16.0.0/255.240.0.0',
      'fd00::/8',
      '192.0.2.1',
    ]);
  });

  it('refuses anything else, naming the entry and what it may be', () => {
    expect(() => loadServerConfig({ TRUST_PROXY: 'yes' })).toThrow(/TRUST_PROXY: "yes" is not a hop count, true\/false, an IP address, a subnet/);
    expect(() => loadServerConfig({ TRUST_PROXY: '10.0.0.0/33, nginx' })).toThrow(/"10\.0\.0\.0\/33", "nginx"/);
    expect(() => loadServerConfig({ TRUST_PROXY: '-1' })).toThrow(/TRUST_PROXY/);
  });
});
