// The base URL that join links, check-in QR codes and the cluster's registry are built
// on: PUBLIC_URL when set, else the address this server listens on (the orchestrator
// tells it once it listens; port 0 in tests becomes the real port).
import type { AddressInfo } from 'node:net';

export class PublicUrl {
  #listening: AddressInfo | undefined;

  constructor(
    private readonly o: {
      /** PUBLIC_URL. */
      configured: string | undefined;
      /** The server's own TLS is on. */
      https: boolean;
      /** The configured port, until the server listens. */
      port: number;
    },
  ) {}

  /** Where the server listens now. */
  listeningOn(address: AddressInfo): void {
    this.#listening = address;
  }

  /** The base URL, without a trailing slash. */
  readonly get = (): string => {
    if (this.o.configured) return this.o.configured;
    const addr = this.#listening;
    const host = !addr || ['0.0.0.0', '::'].includes(addr.address) ? 'localhost' : addr.address;
    const scheme = this.o.https ? 'https' : 'http';
    return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${addr?.port ?? this.o.port}`;
  };
}
