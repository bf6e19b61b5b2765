// The server's certificate checks and the local certificate authority (Debian's openssl):
// made once, key files private, the server certificate re-issued only when it must be.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { plainCaUrl } from '../../server/net/ca-page';
import { certificateNames, ensureLocalCa } from '../../server/net/local-ca';
import { loadKeyPair, spkiSha256, TlsConfigError, TlsCredentials } from '../../server/net/tls';

describe('local certificate authority and certificate checks', () => {
  let dir: string;
  const names = { dns: ['localhost', 'hoinghi.lan'], ips: ['127.0.0.1', '::1', '10.20.30.40'] };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-ca-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the CA is made once with a private key; the server certificate covers the names and chains to it', () => {
    const a = ensureLocalCa(dir, names);
    expect(a.created && a.issued).toBe(true);
    expect(fs.statSync(path.join(a.dir, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(a.keyFile).mode & 0o777).toBe(0o600);
    const pair = loadKeyPair({ certFile: a.certFile, keyFile: a.keyFile });
    const ca = new X509Certificate(fs.readFileSync(a.caFile));
    expect(ca.ca).toBe(true);
    expect(pair.leaf.verify(ca.publicKey)).toBe(true);
    expect(pair.leaf.checkHost('hoinghi.lan')).toBe('hoinghi.lan');
    expect(pair.leaf.checkIP('10.20.30.40')).toBe('10.20.30.40');
    expect(certificateNames(pair.leaf).dns).toEqual(['localhost', 'hoinghi.lan']);
    expect(a.caFingerprint).toBe(ca.fingerprint256);
    // The chain file carries the CA after the server's certificate (a pinned CA key is in it).
    expect(fs.readFileSync(a.certFile, 'utf8')).toContain(fs.readFileSync(a.caFile, 'utf8').trim());
    expect(spkiSha256(fs.readFileSync(a.caFile, 'utf8'))).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  test('a second start keeps both; a new address re-issues the server certificate under the same CA', () => {
    const before = fs.readFileSync(path.join(dir, 'tls', 'ca.crt'), 'utf8');
    const again = ensureLocalCa(dir, names);
    expect(again.created || again.issued).toBe(false);
    const moved = ensureLocalCa(dir, { ...names, ips: [...names.ips, '10.20.30.41'] });
    expect(moved.created).toBe(false);
    expect(moved.issued).toBe(true);
    expect(fs.readFileSync(moved.caFile, 'utf8')).toBe(before);
    // Near its end, it is renewed.
    const later = new Date(Date.now() + 380 * 86_400_000);
    expect(ensureLocalCa(dir, names, later).issued).toBe(true);
  });

  test('a key of another certificate, a missing file, garbage, an expired or not yet valid certificate are refused by name', () => {
    const a = ensureLocalCa(dir, names);
    const other = ensureLocalCa(fs.mkdtempSync(path.join(os.tmpdir(), 'local-ca-2-')), names);
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(TlsConfigError);
        return (e as Error).message;
      }
      throw new Error('expected a TlsConfigError');
    };
    expect(err(() => loadKeyPair({ certFile: a.certFile, keyFile: other.keyFile }))).toMatch(
      /^TLS_KEY: .* does not match/,
    );
    expect(err(() => loadKeyPair({ certFile: path.join(dir, 'nope.pem'), keyFile: a.keyFile }))).toMatch(
      /^TLS_CERT: file not found/,
    );
    expect(err(() => loadKeyPair({ certFile: a.keyFile, keyFile: a.keyFile }))).toMatch(
      /^TLS_CERT: .* not a PEM certificate/,
    );
    expect(err(() => loadKeyPair({ certFile: a.certFile, keyFile: a.certFile }))).toMatch(/^TLS_KEY: .* private key/);
    expect(err(() => loadKeyPair({ certFile: a.certFile, keyFile: a.keyFile }, new Date('2099-01-01')))).toMatch(
      /^TLS_CERT: .* expired on/,
    );
    expect(err(() => loadKeyPair({ certFile: a.certFile, keyFile: a.keyFile }, new Date('2000-01-01')))).toMatch(
      /^TLS_CERT: .* not valid before/,
    );
  });

  test('reload() swaps in a renewed pair and tells its listeners; a bad one keeps the old', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'reload-'));
    const a = ensureLocalCa(d, names);
    const creds = new TlsCredentials({ certFile: a.certFile, keyFile: a.keyFile });
    const first = creds.pair.leaf.serialNumber;
    const seen: string[] = [];
    creds.onReload((p) => seen.push(p.leaf.serialNumber));
    ensureLocalCa(d, { ...names, dns: [...names.dns, 'renewed.lan'] });
    creds.reload();
    expect(creds.pair.leaf.serialNumber).not.toBe(first);
    expect(seen).toEqual([creds.pair.leaf.serialNumber]);
    fs.writeFileSync(a.keyFile, 'garbage');
    expect(() => creds.reload()).toThrow(TlsConfigError);
    expect(creds.pair.leaf.serialNumber).toBe(seen[0]);
    fs.rmSync(d, { recursive: true, force: true });
  });

  test("the CA page's plain-HTTP address: PUBLIC_URL's host and port, or HTTP_REDIRECT_PORT", () => {
    // The front door answers plain HTTP on the HTTPS port itself: keep the port.
    expect(plainCaUrl('https://192.168.10.20', undefined)).toBe('http://192.168.10.20:443/ca');
    expect(plainCaUrl('https://192.168.10.20:8443', undefined)).toBe('http://192.168.10.20:8443/ca');
    expect(plainCaUrl('https://[2001:db8::20]:8443', undefined)).toBe('http://[2001:db8::20]:8443/ca');
    // A redirect port serves it too, and 80 needs no port in the URL.
    expect(plainCaUrl('https://hall.local:8443', 80)).toBe('http://hall.local/ca');
    expect(plainCaUrl('https://hall.local', 8080)).toBe('http://hall.local:8080/ca');
  });
});
