// The address points reach, decided from made-up machines: no packet is sent anywhere.
import type os from 'node:os';
import { loadConfig } from '../../server/config';
import {
  defaultRouteInterface,
  machineAddresses,
  resolveAddressing,
  type InterfaceList,
} from '../../server/net/addresses';

const v4 = (address: string, internal = false): os.NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${address}/24`,
});
const v6 = (address: string): os.NetworkInterfaceInfo => ({
  address,
  netmask: 'ffff:ffff:ffff:ffff::',
  family: 'IPv6',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: `${address}/64`,
  scopeid: 0,
});

const LAN: InterfaceList = {
  lo: [v4('127.0.0.1', true)],
  docker0: [v4('172.17.0.1')],
  eth0: [v4('192.168.10.20'), v6('fe80::1'), v6('2001:db8::20')],
  wlan0: [v4('169.254.3.4')],
};

const ROUTE = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
eth0	00000000	010AA8C0	0003	0	0	100	00000000	0	0	0
eth0	000AA8C0	00000000	0001	0	0	100	00FFFFFF	0	0	0
`;

describe('address detection', () => {
  test('reads the default route interface from /proc/net/route', () => {
    expect(defaultRouteInterface(ROUTE)).toBe('eth0');
    expect(defaultRouteInterface('Iface\tDestination\n')).toBeUndefined();
  });

  test('the default route IPv4 first; container bridges after physical ones; no loopback or link-local', () => {
    const all = machineAddresses(LAN, 'eth0').map((a) => a.address);
    expect(all[0]).toBe('192.168.10.20');
    expect(all).not.toContain('127.0.0.1');
    expect(all).not.toContain('169.254.3.4');
    expect(all).not.toContain('fe80::1');
    expect(all.indexOf('172.17.0.1')).toBeLessThan(all.indexOf('2001:db8::20'));
    // Without a route table: a physical interface still wins over docker0.
    expect(machineAddresses(LAN, undefined)[0]!.address).toBe('192.168.10.20');
  });

  test('with nothing set, links, QR codes and ICE candidates use the primary address', () => {
    const a = resolveAddressing(loadConfig({ PORT: '3000' }), { interfaces: LAN, defaultIface: 'eth0' });
    expect(a.source).toBe('detected');
    expect(a.config.publicUrl).toBe('http://192.168.10.20:3000');
    expect(a.config.rtc.announcedIp).toBe('192.168.10.20');
    // Plain http to another machine: the page says the camera needs https.
    expect(a.warnings.join(' ')).toMatch(/PUBLIC_URL=https:\/\/192\.168\.10\.20:3000/);
  });

  test('only loopback: a warning, and loopback links', () => {
    const a = resolveAddressing(loadConfig({}), {
      interfaces: { lo: [v4('127.0.0.1', true)] },
      defaultIface: undefined,
    });
    expect(a.source).toBe('loopback');
    expect(a.config.rtc.announcedIp).toBe('127.0.0.1');
    expect(a.warnings[0]).toMatch(/no network address but loopback/);
  });

  test('what the operator set wins: RTC_ANNOUNCED_IP, then an IP in PUBLIC_URL, then RTC_LISTEN_IP', () => {
    const m = { interfaces: LAN, defaultIface: 'eth0' };
    const nat = resolveAddressing(loadConfig({ RTC_ANNOUNCED_IP: '203.0.113.7', PORT: '443' }), m);
    expect(nat.config.rtc.announcedIp).toBe('203.0.113.7');
    expect(nat.config.publicUrl).toBe('http://203.0.113.7:443');
    const https = resolveAddressing(loadConfig({ PUBLIC_URL: 'https://10.1.2.3:8443' }), m);
    expect(https.config.publicUrl).toBe('https://10.1.2.3:8443');
    expect(https.config.rtc.announcedIp).toBe('10.1.2.3');
    expect(https.warnings).toEqual([]);
    const named = resolveAddressing(loadConfig({ PUBLIC_URL: 'https://hoinghi.hatinh.gov.vn' }), m);
    expect(named.config.publicUrl).toBe('https://hoinghi.hatinh.gov.vn');
    expect(named.config.rtc.announcedIp).toBe('192.168.10.20');
    const onHost = resolveAddressing(loadConfig({ HOST: '127.0.0.1', PORT: '8080' }), m);
    expect(onHost.config.publicUrl).toBe('http://127.0.0.1:8080');
    const listen = resolveAddressing(loadConfig({ RTC_LISTEN_IP: '10.9.8.7' }), m);
    expect(listen.address).toBe('10.9.8.7');
    expect(listen.config.rtc.announcedIp).toBeUndefined(); // mediasoup announces its listen address
  });

  test('TLS=proxy on a wildcard HOST warns that plain HTTP reaches the whole network; on loopback it does not', () => {
    const m = { interfaces: LAN, defaultIface: 'eth0' };
    const env = { TLS: 'proxy', PUBLIC_URL: 'https://hoinghi.example.vn', PORT: '3000' };
    const open = resolveAddressing(loadConfig(env), m);
    expect(open.warnings).toEqual([expect.stringMatching(/plain HTTP .*port 3000 .*whole network.*HOST=127\.0\.0\.1/)]);
    expect(resolveAddressing(loadConfig({ ...env, HOST: '::' }), m).warnings).toHaveLength(1);
    expect(resolveAddressing(loadConfig({ ...env, HOST: '127.0.0.1' }), m).warnings).toEqual([]);
    // TLS=auto serves HTTPS itself: nothing to say.
    expect(resolveAddressing(loadConfig({ PUBLIC_URL: 'https://hoinghi.example.vn' }), m).warnings).toEqual([]);
  });

  test('an https PUBLIC_URL without certificate asks for the local CA; with PORT 0 the URL is left to the listener', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://10.1.2.3' }).net.localCa).toBe(true);
    expect(loadConfig({ PUBLIC_URL: 'http://10.1.2.3' }).net.localCa).toBe(false);
    const a = resolveAddressing(loadConfig({ PORT: '0' }), { interfaces: LAN, defaultIface: 'eth0' });
    expect(a.config.publicUrl).toBeUndefined();
  });
});
