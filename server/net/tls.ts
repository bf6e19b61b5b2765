// The server's certificate and key: read, checked (the key matches, the dates hold) before
// anything starts, and read again on SIGHUP without a restart (a renewed certificate).
// A bad pair is refused with the variable named, never half-used.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';

/** A certificate problem, naming the variable that points at the file. */
export class TlsConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'TlsConfigError';
  }
}

export interface KeyPairFiles {
  certFile: string;
  keyFile: string;
  /** Names for the messages: the variables (or the local CA's files). */
  certVariable?: string;
  keyVariable?: string;
}

export interface KeyPair {
  cert: string;
  key: string;
  /** The leaf certificate (the first of the chain). */
  leaf: X509Certificate;
}

function readPem(file: string, variable: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TlsConfigError(
      variable,
      code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file} (${code ?? String(err)})`,
    );
  }
}

/** Reads and checks a certificate chain and its key; throws TlsConfigError naming the variable. */
export function loadKeyPair(files: KeyPairFiles, now = new Date()): KeyPair {
  const certVar = files.certVariable ?? 'TLS_CERT';
  const keyVar = files.keyVariable ?? 'TLS_KEY';
  const cert = readPem(files.certFile, certVar);
  const key = readPem(files.keyFile, keyVar);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new TlsConfigError(certVar, `${files.certFile} is not a PEM certificate`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new TlsConfigError(keyVar, `${files.keyFile} is not an unencrypted PEM private key`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsConfigError(keyVar, `${files.keyFile} does not match the certificate in ${files.certFile}`);
  }
  if (Date.parse(leaf.validTo) <= now.getTime()) {
    throw new TlsConfigError(certVar, `the certificate in ${files.certFile} expired on ${leaf.validTo}`);
  }
  if (Date.parse(leaf.validFrom) > now.getTime()) {
    throw new TlsConfigError(certVar, `the certificate in ${files.certFile} is not valid before ${leaf.validFrom}`);
  }
  return { cert, key, leaf };
}

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo (Chromium's SPKI pin format). */
export function spkiSha256(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/**
 * The serving credentials: the checked pair, swapped in place by reload(), which calls
 * its listeners (the TLS server takes the new pair for every later handshake).
 */
export class TlsCredentials {
  #pair: KeyPair;
  readonly #listeners: ((pair: KeyPair) => void)[] = [];

  constructor(
    readonly files: KeyPairFiles,
    pair = loadKeyPair(files),
  ) {
    this.#pair = pair;
  }

  get pair(): KeyPair {
    return this.#pair;
  }

  onReload(fn: (pair: KeyPair) => void): void {
    this.#listeners.push(fn);
  }

  /** Reads the files again; on any problem keeps serving the old pair and throws. */
  reload(): X509Certificate {
    const pair = loadKeyPair(this.files);
    this.#pair = pair;
    for (const fn of this.#listeners) fn(pair);
    return pair.leaf;
  }
}
