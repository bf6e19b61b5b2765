// A local certificate authority for a briefing on a LAN with no certificate of its own:
// created once under <DATA_DIR>/tls (its key readable by this user only), it signs the
// server's certificate for the configured names and the machine's addresses, again
// whenever those change or the certificate nears its end. Point technicians install the
// CA once (the /ca page) and every later certificate is trusted.
//
// Made with Debian's openssl command (see scripts/prepare.mjs): the same audited OpenSSL
// the system trusts, ECDSA P-256 keys, and no certificate-building code of our own.
import { randomBytes, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LocalCa {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint of the CA certificate, colon-separated hex (what browsers show). */
  caFingerprint: string;
  /** The CA was made just now (first start). */
  created: boolean;
  /** The server certificate was (re)issued just now. */
  issued: boolean;
}

export interface LocalCaNames {
  dns: string[];
  ips: string[];
}

/** openssl req: a new unencrypted ECDSA P-256 key. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const SERVER_DAYS = 397; // the most browsers accept for a server certificate
const RENEW_BEFORE_MS = 30 * 86_400_000;

export class OpensslMissingError extends Error {
  constructor() {
    super(
      'the openssl command is needed to create the local certificate authority (PUBLIC_URL is https and ' +
        'TLS_CERT is not set): apt-get install -y openssl (npm start does this as root), or set TLS_CERT and TLS_KEY',
    );
    this.name = 'OpensslMissingError';
  }
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new OpensslMissingError();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(err)}`);
  }
}

/** Creates `file` empty with mode 0600 so that what openssl writes into it stays private. */
function privateFile(file: string): void {
  fs.rmSync(file, { force: true });
  fs.closeSync(fs.openSync(file, 'wx', 0o600));
}

/** Names (DNS and IP) a certificate's subjectAltName covers. */
export function certificateNames(cert: X509Certificate): LocalCaNames {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(/,\s*/)) {
    if (part.startsWith('DNS:')) dns.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ips.push(part.slice(11).toLowerCase());
  }
  return { dns, ips };
}

function covers(cert: X509Certificate, wanted: LocalCaNames): boolean {
  const have = certificateNames(cert);
  // Node prints IPv6 SANs expanded; compare IPv4 exactly and IPv6 loosely through checkIP.
  return (
    wanted.dns.every((d) => have.dns.includes(d)) &&
    wanted.ips.every((ip) => have.ips.includes(ip.toLowerCase()) || cert.checkIP(ip) !== undefined)
  );
}

/** Creates the CA once, then (re)issues the server certificate when it must; idempotent. */
export function ensureLocalCa(dataDir: string, names: LocalCaNames, now = new Date()): LocalCa {
  const dir = path.join(dataDir, 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = path.join(dir, 'ca.key');
  const caFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'server.key');
  const certFile = path.join(dir, 'server.crt');
  let created = false;
  if (!fs.existsSync(caKey) || !fs.existsSync(caFile)) {
    privateFile(caKey);
    const stamp = now.toISOString().slice(0, 10);
    const host = os
      .hostname()
      .replace(/[^A-Za-z0-9.-]/g, '-')
      .slice(0, 40);
    openssl(
      [
        'req',
        '-x509',
        ...NEW_EC_KEY,
        '-keyout',
        caKey,
        '-out',
        caFile,
        '-days',
        '3650',
        '-subj',
        `/O=Briefing orchestrator/CN=Briefing local CA ${host} ${stamp}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    fs.chmodSync(caKey, 0o600);
    created = true;
  }
  const ca = new X509Certificate(fs.readFileSync(caFile));
  let issued = false;
  const current =
    fs.existsSync(certFile) && fs.existsSync(keyFile) ? new X509Certificate(fs.readFileSync(certFile)) : undefined;
  const fresh =
    current &&
    !created &&
    current.verify(ca.publicKey) &&
    Date.parse(current.validTo) - now.getTime() > RENEW_BEFORE_MS &&
    covers(current, names);
  if (!fresh) {
    privateFile(keyFile);
    const csr = path.join(dir, 'server.csr');
    const ext = path.join(dir, 'server.ext');
    const san = [...names.dns.map((d) => `DNS:${d}`), ...names.ips.map((ip) => `IP:${ip}`)].join(',');
    fs.writeFileSync(
      ext,
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
    );
    openssl(
      [
        'req',
        '-new',
        ...NEW_EC_KEY,
        '-keyout',
        keyFile,
        '-out',
        csr,
        '-subj',
        `/O=Briefing orchestrator/CN=${names.dns[0] ?? names.ips[0] ?? 'localhost'}`,
      ],
      dir,
    );
    fs.chmodSync(keyFile, 0o600);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-days',
        String(SERVER_DAYS),
        '-extfile',
        ext,
        '-out',
        certFile,
      ],
      dir,
    );
    fs.rmSync(csr, { force: true });
    fs.rmSync(ext, { force: true });
    // The chain the server sends: its certificate, then the CA's, so a client that pins
    // the CA's key (or has it installed) sees it in the chain.
    fs.writeFileSync(certFile, fs.readFileSync(certFile, 'utf8').trimEnd() + '\n' + fs.readFileSync(caFile, 'utf8'));
    issued = true;
  }
  return { dir, caFile, certFile, keyFile, caFingerprint: ca.fingerprint256, created, issued };
}
