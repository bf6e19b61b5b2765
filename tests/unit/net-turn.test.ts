// coturn's shared-secret REST credentials (use-auth-secret): the username carries the
// expiry, the password is base64(HMAC-SHA1(secret, username)).
import { createHmac } from 'node:crypto';
import { relayUrls, TurnCredentials, turnCredential } from '../../server/net/turn';

describe('TURN credentials', () => {
  const secret = 'a-shared-secret-of-at-least-32-characters';

  test('the username is "<expiry>:<peer>" and the password its HMAC-SHA1 under the secret', () => {
    const now = Date.parse('2026-01-18T07:30:00Z');
    const c = turnCredential(secret, 'HT-CX', 3600, now);
    expect(c.expiresAt).toBe(now / 1000 + 3600);
    expect(c.username).toBe(`${now / 1000 + 3600}:HT-CX`);
    expect(c.credential).toBe(createHmac('sha1', secret).update(c.username).digest('base64'));
    // Odd characters in a peer id cannot break coturn's parsing of the username.
    expect(turnCredential(secret, 'a:b c', 60, now).username).toBe(`${now / 1000 + 60}:a_b_c`);
  });

  test('each page gets relays over UDP, TCP and TLS with a credential of its own', () => {
    const urls = relayUrls('10.0.0.5', { port: 3478, tlsPort: 443 });
    expect(urls).toEqual([
      'turn:10.0.0.5:3478?transport=udp',
      'turn:10.0.0.5:3478?transport=tcp',
      'turns:10.0.0.5:443?transport=tcp',
    ]);
    expect(relayUrls('2001:db8::5', { port: 3478, tlsPort: 5349 })[2]).toBe('turns:[2001:db8::5]:5349?transport=tcp');
    const t = new TurnCredentials({ urls, secret, ttlSeconds: 600, now: () => 1_000_000_000_000 });
    const [a] = t.iceServers('HT-CX');
    const [b] = t.iceServers('HT-DT');
    expect(a!.urls).toEqual(urls);
    expect(a!.username).toBe('1000000600:HT-CX');
    expect(a!.credential).not.toBe(b!.credential);
  });
});
