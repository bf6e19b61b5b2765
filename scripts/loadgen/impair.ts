// A lossy, narrow link for a share of the virtual points: an nftables table of this run's
// own (`inet loadgen_impair_<pid>`) that drops a random N % of the UDP datagrams to and
// from the impaired points' media ports (`numgen random mod 100 < N drop`) and polices
// what goes to each of them to a rate (a per-port token bucket: `limit rate over`, burst
// of 64 KiB; above it packets are dropped, as a full tbf queue would). The points share
// the generator's network namespace and loopback with the SFU, so the rules match their
// ports; nothing else on the machine is touched, and the table goes with the run.
// Needs root and nft (npm test installs nftables).
import { execFileSync } from 'node:child_process';

export interface ImpairSpec {
  /** Share of the points on the impaired link (0-100 %). */
  sharePct: number;
  /** Random loss on it, each direction (0-100 %). */
  lossPct: number;
  /** Rate cap towards each impaired point (kbit/s); 0 for none. */
  rateKbps: number;
}

/** Parses `share:loss[:rate]`, e.g. `20:5:2000` (20 % of the points, 5 % loss, 2 Mbit/s). */
export function parseImpairSpec(s: string): ImpairSpec {
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new Error('--impair takes share:loss[:rateKbps], e.g. 20:5:2000');
  const spec = { sharePct: Number(m[1]), lossPct: Number(m[2]), rateKbps: Number(m[3] ?? 0) };
  if (spec.sharePct > 100 || spec.lossPct > 100) throw new Error('--impair: share and loss are percentages (0-100)');
  return spec;
}

/**
 * Which of `n` points are impaired: spread evenly (every k-th), `sharePct` of them.
 * `offset` (0-1 of a step) shifts the picks, so that another share spread the same way
 * (the ICE-TCP points) falls between them.
 */
export function impairedIndexes(n: number, sharePct: number, offset = 0): Set<number> {
  const count = Math.round((n * sharePct) / 100);
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(Math.floor(((i + offset) * n) / count));
  return out;
}

/** `share` (0-1) of n indexes, spread evenly over those not in `avoid`. */
export function spreadAvoiding(n: number, share: number, avoid: ReadonlySet<number>): Set<number> {
  const free = [...Array(n).keys()].filter((i) => !avoid.has(i));
  const count = Math.min(free.length, Math.round(n * share));
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(free[Math.floor(((i + 0.5) * free.length) / count)]!);
  return out;
}

export class ImpairedLink {
  readonly table = `loadgen_impair_${process.pid}`;
  readonly #ports = new Set<number>();
  #open = false;
  readonly #onExit = () => this.remove();

  constructor(readonly spec: ImpairSpec) {}

  /** Creates the table (empty port set). Throws with nft's message when it cannot. */
  open(): void {
    const loss = Math.round(this.spec.lossPct);
    const rules = [
      ...(loss > 0
        ? [
            `    udp dport @ports numgen random mod 100 < ${loss} drop`,
            `    udp sport @ports numgen random mod 100 < ${loss} drop`,
          ]
        : []),
      ...(this.spec.rateKbps > 0
        ? [
            `    udp dport @ports add @rate { udp dport limit rate over ${Math.max(1, Math.round(this.spec.rateKbps / 8))} kbytes/second burst 64 kbytes } drop`,
          ]
        : []),
    ];
    nft(
      ['-f', '-'],
      `table inet ${this.table} {
  set ports { type inet_service; }
  set rate { type inet_service; flags dynamic; timeout 1h; }
  chain input {
    type filter hook input priority -10; policy accept;
${rules.join('\n')}
  }
}
`,
    );
    this.#open = true;
    process.once('exit', this.#onExit);
  }

  /** A point's media socket (its local UDP port) goes on the impaired link. */
  add(port: number): void {
    if (!this.#open || this.#ports.has(port)) return;
    this.#ports.add(port);
    nft(['add', 'element', 'inet', this.table, 'ports', `{ ${port} }`]);
  }

  remove(): void {
    if (!this.#open) return;
    this.#open = false;
    process.removeListener('exit', this.#onExit);
    try {
      nft(['delete', 'table', 'inet', this.table]);
    } catch {
      // already gone
    }
  }
}

function nft(args: string[], input?: string): void {
  try {
    execFileSync('nft', args, { input, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`nft ${args.join(' ')}: ${e.stderr?.toString().trim() || e.message}`);
  }
}
