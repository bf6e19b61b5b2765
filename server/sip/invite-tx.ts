// The INVITE server transactions the gateway answers (RFC 3261 17.2.1): by branch,
// Call-ID and From, each kept 32 s (64 T1) after it began, so a retransmitted INVITE gets
// the last response again and a CANCEL finds what it cancels. At most 4096 at once: the
// oldest goes first, so a flood cannot grow the table.
import { headerParams, one, type SipRequest } from './message';

/** UAS timers (RFC 3261 17): the time a 2xx is retransmitted until ACK. */
const TX_KEEP_MS = 32_000;
const MAX_TRANSACTIONS = 4096;

export interface InviteTx {
  /** The last response sent, sent again for a retransmitted INVITE. */
  last: Buffer;
  final: boolean;
  cancelled: boolean;
  req: SipRequest;
  toTag: string;
}

export class InviteTransactions {
  readonly #tx = new Map<string, InviteTx>();

  /** The transaction a request belongs to (the INVITE, or a CANCEL of it). */
  keyOf(req: SipRequest): string {
    const branch = headerParams(req.headers.get('via')![0]!).get('branch') ?? '';
    return `${branch}|${one(req, 'call-id')}|${one(req, 'from')}`;
  }

  get(key: string): InviteTx | undefined {
    return this.#tx.get(key);
  }

  remember(key: string, tx: InviteTx): void {
    if (this.#tx.size >= MAX_TRANSACTIONS) this.#tx.delete(this.#tx.keys().next().value!);
    this.#tx.set(key, tx);
    setTimeout(() => this.#tx.get(key) === tx && this.#tx.delete(key), TX_KEEP_MS).unref();
  }

  clear(): void {
    this.#tx.clear();
  }
}
