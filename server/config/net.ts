// The real-network section of the environment (TLS, TLS_*, TRUST_PROXY, TURN_*): its
// variables, the rules between them, and the `NetConfig` made of them (server/net/).
import path from 'node:path';
import { z } from 'zod';
import { parseAddressList } from '../security/client-address';
import { ipv4OrV6, port, portRange, wholeNumber } from './fields';

/**
 * Express's `trust proxy`: a hop count (how many proxies stand in front), or a list of
 * the proxies' addresses or CIDR ranges (or `loopback`, `linklocal`, `uniquelocal`),
 * checked by the same library Express compiles it with.
 */
const trustProxy = z.string().transform((v, ctx) => {
  const s = v.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > 10) ctx.addIssue({ code: 'custom', message: 'a hop count must be 0-10' });
    return n;
  }
  try {
    return parseAddressList(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a hop count (0-10), and the list ${(err as Error).message}` });
    return z.NEVER;
  }
});

/** turn:/turns: URLs of an existing TURN server, comma-separated. */
const turnUrls = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .refine((urls) => urls.length > 0 && urls.every((u) => /^turns?:[^\s/?#]+(\?transport=(udp|tcp))?$/.test(u)), {
    message: 'must be turn: or turns: URLs, comma-separated, e.g. "turn:turn.example.vn:3478?transport=udp"',
  });

/** Real networks: HTTPS, proxies, TURN (server/net/). */
export const netEnv = {
  TLS: z.enum(['auto', 'proxy']).default('auto'),
  TLS_CERT: z.string().min(1).optional(),
  TLS_KEY: z.string().min(1).optional(),
  HTTP_REDIRECT_PORT: port(0).optional(),
  TRUST_PROXY: trustProxy.optional(),
  TURN: z.enum(['off', 'embedded']).default('off'),
  TURN_URLS: turnUrls.optional(),
  TURN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TURN_LISTEN_IP: ipv4OrV6.optional(),
  TURN_PORT: port(3478).refine((p) => p > 0, 'must be 1-65535'),
  TURN_TLS_PORT: wholeNumber().min(1, 'must be 1-65535').max(65535, 'must be 1-65535').optional(),
  TURN_RELAY_PORTS: portRange(49160, 49359),
  TURN_CREDENTIAL_TTL: wholeNumber()
    .min(60, 'must be 60-172800 seconds')
    .max(172_800, 'must be 60-172800 seconds')
    .default(43_200),
};

type NetEnv = z.output<z.ZodObject<typeof netEnv>> & { PORT: number; PUBLIC_URL?: string | undefined };

/** Whether this process may listen on TCP 443 (coturn, its child, inherits it). */
export interface PortPrivilege {
  /** process.getuid(); undefined where there is none. */
  uid: number | undefined;
  /** /proc/sys/net/ipv4/ip_unprivileged_port_start; undefined where it cannot be read (1024 then). */
  unprivilegedPortStart: number | undefined;
  /** CAP_NET_BIND_SERVICE in the ambient set (systemd AmbientCapabilities=): children get it too. */
  ambientBindService: boolean;
}

/** As root: what the defaults assume when the caller does not say. */
export const ROOT_PRIVILEGE: PortPrivilege = { uid: 0, unprivilegedPortStart: 1024, ambientBindService: false };

export function mayBind443(p: PortPrivilege): boolean {
  return p.uid === undefined || p.uid === 0 || p.ambientBindService || (p.unprivilegedPortStart ?? 1024) <= 443;
}

/**
 * The embedded relay's TLS port when TURN_TLS_PORT is unset: 443, where firewalls that let
 * out only HTTPS pass; 5349 when the web server holds 443 on the same address, or when this
 * process may not bind 443 (then with a warning saying what that costs and how to fix it).
 */
export function defaultTurnTlsPort(o: { webPort: number; listenIp: string | undefined; privilege: PortPrivilege }): {
  port: number;
  warning?: string;
} {
  if (o.webPort === 443 && !o.listenIp) return { port: 5349 };
  if (mayBind443(o.privilege)) return { port: 443 };
  return {
    port: 5349,
    warning:
      'TURN_TLS_PORT defaults to 5349: this process is not root and may not bind port 443, so points whose ' +
      'firewall lets out only TCP 443 will not reach the relay. Run as root, or give node CAP_NET_BIND_SERVICE ' +
      'as an ambient capability (AmbientCapabilities= in a systemd unit, as deploy/briefing.service does) ' +
      'and the relay takes 443 (or set TURN_TLS_PORT=443).',
  };
}

/** HTTPS, proxies and TURN (server/net/). */
export interface NetConfig {
  /** auto: the server speaks HTTPS itself when PUBLIC_URL is https; proxy: a reverse proxy in front does, the server plain HTTP. */
  tlsMode: 'auto' | 'proxy';
  /** PEM files given by the operator; reloaded on SIGHUP. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** PUBLIC_URL is https and no certificate is given: a local CA under dataDir/tls signs one. */
  localCa: boolean;
  /** A plain-HTTP port (e.g. 80) answering only with redirects to PUBLIC_URL; undefined: none. */
  httpRedirectPort: number | undefined;
  /** Express's `trust proxy`: hops, or proxies' addresses. */
  trustProxy: number | string[];
  turn: TurnConfig;
}

export interface TurnConfig {
  /** off: no relay; embedded: the start runs a coturn; external: TURN_URLS + TURN_SECRET. */
  mode: 'off' | 'embedded' | 'external';
  /** External: the relay's URLs as given. */
  urls: string[];
  /** External: the shared secret (coturn static-auth-secret); embedded: made at each start. */
  secret: string | undefined;
  /** Embedded: the address coturn listens on (a second address lets TLS take 443); default all. */
  listenIp: string | undefined;
  port: number;
  /** Embedded: TURN over TLS; default 443, else 5349 (defaultTurnTlsPort). */
  tlsPort: number;
  /** Why the default TLS port is not 443 when that costs points something (logged at start). */
  tlsPortWarning: string | undefined;
  relayPorts: [number, number];
  /** Lifetime of the credentials handed to a page. */
  credentialTtlSeconds: number;
}

/** With TLS=proxy: each variable whose value does not fit a reverse proxy in front, and why. */
function proxyConflicts(env: NetEnv): [keyof NetEnv, string][] {
  const rules: [keyof NetEnv, boolean, string][] = [
    [
      'TLS_CERT',
      Boolean(env.TLS_CERT),
      'must be unset with TLS=proxy (the reverse proxy holds the certificate); set TLS=auto to serve HTTPS from the server',
    ],
    [
      'PUBLIC_URL',
      !env.PUBLIC_URL?.startsWith('https:'),
      "required and https:// with TLS=proxy: the reverse proxy's address, which links and QR codes carry",
    ],
    [
      'HTTP_REDIRECT_PORT',
      Boolean(env.HTTP_REDIRECT_PORT),
      'must be unset with TLS=proxy: the server speaks no HTTPS to redirect to; let the reverse proxy redirect http to https',
    ],
    [
      'TURN',
      env.TURN === 'embedded',
      "cannot be embedded with TLS=proxy: the relay's turns: listener would carry a local CA's certificate, and " +
        'with TLS=proxy no page offers points that CA. Use a relay with its own certificate: TURN_URLS and ' +
        'TURN_SECRET (e.g. the coturn service in docker-compose.yml)',
    ],
  ];
  return rules.filter(([, bad]) => bad).map(([variable, , message]) => [variable, message]);
}

export function checkNetEnv(env: NetEnv, ctx: z.RefinementCtx): void {
  if (env.TLS === 'proxy') {
    for (const [variable, message] of proxyConflicts(env)) ctx.addIssue({ code: 'custom', path: [variable], message });
  }
  if ((env.TLS_CERT === undefined) !== (env.TLS_KEY === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [env.TLS_CERT === undefined ? 'TLS_CERT' : 'TLS_KEY'],
      message: 'TLS_CERT and TLS_KEY go together (PEM files of the certificate chain and its private key)',
    });
  }
  if (env.TLS_CERT && env.PUBLIC_URL?.startsWith('http:')) {
    ctx.addIssue({
      code: 'custom',
      path: ['PUBLIC_URL'],
      message: 'must be https:// when TLS_CERT is set (the server answers HTTPS on PORT)',
    });
  }
  if (env.TURN_URLS && !env.TURN_SECRET) {
    ctx.addIssue({
      code: 'custom',
      path: ['TURN_SECRET'],
      message: "required with TURN_URLS: the TURN server's static-auth-secret (coturn use-auth-secret)",
    });
  }
  if (env.TURN_URLS && env.TURN === 'embedded') {
    ctx.addIssue({
      code: 'custom',
      path: ['TURN'],
      message: 'TURN=embedded starts a relay of its own; TURN_URLS names an existing one: set one of them',
    });
  }
}

export function netConfig(e: NetEnv, privilege: PortPrivilege): NetConfig {
  const tlsDefault = defaultTurnTlsPort({ webPort: e.PORT, listenIp: e.TURN_LISTEN_IP, privilege });
  return {
    tlsMode: e.TLS,
    tls: e.TLS_CERT && e.TLS_KEY ? { certFile: path.resolve(e.TLS_CERT), keyFile: path.resolve(e.TLS_KEY) } : undefined,
    localCa: e.TLS === 'auto' && !e.TLS_CERT && (e.PUBLIC_URL ?? '').startsWith('https:'),
    httpRedirectPort: e.HTTP_REDIRECT_PORT || undefined,
    trustProxy: e.TRUST_PROXY ?? ['loopback'],
    turn: {
      mode: e.TURN_URLS ? 'external' : e.TURN,
      urls: e.TURN_URLS ?? [],
      secret: e.TURN_SECRET,
      listenIp: e.TURN_LISTEN_IP,
      port: e.TURN_PORT,
      tlsPort: e.TURN_TLS_PORT ?? tlsDefault.port,
      tlsPortWarning: e.TURN_TLS_PORT === undefined && e.TURN === 'embedded' ? tlsDefault.warning : undefined,
      relayPorts: e.TURN_RELAY_PORTS,
      credentialTtlSeconds: e.TURN_CREDENTIAL_TTL,
    },
  };
}
